resource "aws_redshift_parameter_group" "this" {
  name        = "${var.cluster_identifier}-params"
  family      = "redshift-1.0"
  description = "TLS-only connections and user activity logging for ${var.cluster_identifier}"

  parameter {
    name  = "require_ssl"
    value = "true"
  }

  parameter {
    name  = "enable_user_activity_logging"
    value = "true"
  }
}

resource "aws_redshift_cluster" "this" {
  #checkov:skip=CKV_AWS_71:Audit logging needs a bucket the user owns; it is on when audit_log_bucket is set, through aws_redshift_logging below.
  #checkov:skip=CKV_AWS_321:Enhanced VPC routing is a variable; on, COPY from S3 needs an S3 gateway endpoint that the default VPC lacks.
  cluster_identifier = var.cluster_identifier
  node_type          = var.node_type
  cluster_type       = var.number_of_nodes > 1 ? "multi-node" : "single-node"
  number_of_nodes    = var.number_of_nodes
  database_name      = var.database_name
  port               = 5439

  master_username        = var.admin_username
  manage_master_password = true

  encrypted  = true
  kms_key_id = var.kms_key_arn

  publicly_accessible          = var.publicly_accessible
  vpc_security_group_ids       = [aws_security_group.redshift.id]
  cluster_subnet_group_name    = aws_redshift_subnet_group.this.name
  cluster_parameter_group_name = aws_redshift_parameter_group.this.name
  enhanced_vpc_routing         = var.enhanced_vpc_routing

  iam_roles            = [aws_iam_role.redshift_s3_read.arn]
  default_iam_role_arn = aws_iam_role.redshift_s3_read.arn

  automated_snapshot_retention_period = var.snapshot_retention_days
  skip_final_snapshot                 = !var.final_snapshot_on_destroy
  final_snapshot_identifier           = var.final_snapshot_on_destroy ? "${var.cluster_identifier}-final-${terraform_data.created_at.output}" : null
  allow_version_upgrade               = true
}

# When this configuration was first applied, fixed from then on: it names the final snapshot,
# so that destroying a second cluster of the same name does not collide with the first's
# snapshot (ClusterSnapshotAlreadyExists).
resource "terraform_data" "created_at" {
  input = formatdate("YYYYMMDDhhmmss", timestamp())

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_redshift_logging" "this" {
  count = var.audit_log_bucket == null ? 0 : 1

  cluster_identifier   = aws_redshift_cluster.this.id
  log_destination_type = "s3"
  bucket_name          = var.audit_log_bucket
  s3_key_prefix        = "redshift-audit/${var.cluster_identifier}/"
}
