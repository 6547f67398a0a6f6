# The provisioned cluster (deployment = "provisioned"); serverless.tf holds the alternative.

resource "aws_redshift_parameter_group" "this" {
  count = local.provisioned ? 1 : 0

  name        = "${var.cluster_identifier}-params"
  family      = "redshift-1.0"
  description = "TLS-only connections and user activity logging for ${var.cluster_identifier}"

  parameter {
    name  = "require_ssl"
    value = "true"
  }

  # Logs every query, but only where audit logging sends the logs somewhere (audit_logging.tf).
  parameter {
    name  = "enable_user_activity_logging"
    value = tostring(var.audit_logging)
  }
}

resource "aws_redshift_cluster" "this" {
  #checkov:skip=CKV_AWS_71:Audit logging is a variable, on by default, through aws_redshift_logging in audit_logging.tf.
  #checkov:skip=CKV_AWS_321:Enhanced VPC routing is a variable; on, COPY from S3 needs an S3 gateway endpoint that the default VPC lacks.
  count = local.provisioned ? 1 : 0

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
  cluster_subnet_group_name    = aws_redshift_subnet_group.this[0].name
  cluster_parameter_group_name = aws_redshift_parameter_group.this[0].name
  enhanced_vpc_routing         = var.enhanced_vpc_routing

  iam_roles            = [aws_iam_role.redshift_s3_read.arn]
  default_iam_role_arn = aws_iam_role.redshift_s3_read.arn

  automated_snapshot_retention_period = var.snapshot_retention_days
  skip_final_snapshot                 = !var.final_snapshot_on_destroy
  final_snapshot_identifier           = var.final_snapshot_on_destroy ? "${var.cluster_identifier}-final-${terraform_data.created_at.output}" : null
  allow_version_upgrade               = true
}

# The configuration before the deployment choice had one cluster, without count.
moved {
  from = aws_redshift_cluster.this
  to   = aws_redshift_cluster.this[0]
}

moved {
  from = aws_redshift_parameter_group.this
  to   = aws_redshift_parameter_group.this[0]
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
