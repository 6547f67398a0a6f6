# What the loader and dbt need (sparkify/aws.py writes them to .env.redshift), for either
# deployment. A value that does not apply to the deployment is "", never null: Terraform
# drops null outputs, and the env file needs every variable, if empty.

# Attributes are read one by one, never through the whole resource object: the cluster and
# the namespace have sensitive attributes (the passwords), which a function such as one()
# would spread to every value read from them.

output "deployment" {
  description = "Which Redshift this is: \"provisioned\" or \"serverless\"."
  value       = var.deployment
}

output "deployment_shape" {
  description = "What is billed, and what keeps the bill in check, in one line: `make infra-plan` shows it."
  value = join("; ", compact(concat(
    local.provisioned ? [
      "provisioned cluster: ${var.number_of_nodes} x ${var.node_type} (${var.number_of_nodes > 1 ? "multi-node" : "single-node"})",
      var.pause_schedule != null ? "paused ${var.pause_schedule}" : "",
      var.resume_schedule != null ? "resumed ${var.resume_schedule}" : "",
      var.concurrency_scaling_max_minutes_per_day != null ? "concurrency scaling at most ${var.concurrency_scaling_max_minutes_per_day} min a day (${var.concurrency_scaling_breach_action})" : "",
      ] : [
      "serverless workgroup: ${var.serverless_base_capacity}-${var.serverless_max_capacity} RPU",
      var.serverless_max_rpu_hours_per_day != null ? "at most ${var.serverless_max_rpu_hours_per_day} RPU-hours a day (${var.serverless_usage_limit_breach_action})" : "no RPU-hour limit",
    ],
    [local.budget_recipients ? "budget ${var.monthly_budget_usd} USD a month, notified at 80% and 100%" : "no budget"],
  )))
}

output "host" {
  description = "Address of the cluster's or the workgroup's endpoint."
  value       = local.provisioned ? aws_redshift_cluster.this[0].dns_name : aws_redshiftserverless_workgroup.this[0].endpoint[0].address
}

output "port" {
  description = "Port of the endpoint."
  value       = local.provisioned ? aws_redshift_cluster.this[0].port : aws_redshiftserverless_workgroup.this[0].port
}

output "database" {
  description = "Database created in the cluster or namespace."
  value       = local.provisioned ? aws_redshift_cluster.this[0].database_name : aws_redshiftserverless_namespace.this[0].db_name
}

output "cluster_identifier" {
  description = "Identifier of the provisioned cluster, for IAM authentication (GetClusterCredentials); \"\" on Serverless."
  value       = local.provisioned ? aws_redshift_cluster.this[0].cluster_identifier : ""
}

output "workgroup_name" {
  description = "Name of the Serverless workgroup, for IAM authentication (redshift-serverless:GetCredentials); \"\" on a provisioned cluster."
  value       = local.serverless ? aws_redshiftserverless_workgroup.this[0].workgroup_name : ""
}

output "account_id" {
  description = "AWS account of the warehouse, which dbt names with a Serverless workgroup."
  value       = local.account_id
}

output "admin_username" {
  description = "Admin user of the cluster or namespace."
  value       = local.provisioned ? aws_redshift_cluster.this[0].master_username : var.admin_username
}

output "iam_role_arn" {
  description = "Role the cluster or namespace assumes to COPY from S3; also its default IAM role."
  value       = aws_iam_role.redshift_s3_read.arn
}

output "region" {
  description = "Region of the warehouse."
  value       = var.region
}

output "admin_secret_arn" {
  description = "Secrets Manager secret holding the admin password (the password itself is never in state or outputs)."
  value       = local.provisioned ? aws_redshift_cluster.this[0].master_password_secret_arn : aws_redshiftserverless_namespace.this[0].admin_password_secret_arn
}

output "raw_load_lines" {
  description = "Whether STL_LOAD_ERRORS keeps the raw lines of rejected rows: \"true\" on a provisioned cluster, \"false\" on Serverless, which has no STL views (the load reads it as SPARKIFY_REDSHIFT_RAW_LINES)."
  value       = tostring(local.provisioned)
}

output "security_group_id" {
  description = "Security group guarding port 5439."
  value       = aws_security_group.redshift.id
}

output "load_bucket" {
  description = "Bucket the project owns for the COPY manifests of each load; the warehouse's role may read its manifests/ prefix."
  value       = aws_s3_bucket.load.bucket
}

output "manifest_location" {
  description = "S3 location (s3://bucket/manifests) where each load writes its COPY manifests, instead of the source bucket."
  value       = "s3://${aws_s3_bucket.load.bucket}/${trimsuffix(local.manifest_prefix, "/")}"
}

output "audit_log_location" {
  description = "Where the audit logs go: s3://bucket/prefix for a provisioned cluster, the CloudWatch Logs group prefix for Serverless; \"\" with audit_logging off."
  value = !var.audit_logging ? "" : (
    local.provisioned
    ? "s3://${coalesce(var.audit_log_bucket, one(aws_s3_bucket.audit_logs[*].bucket))}/${local.audit_log_prefix}"
    : "/aws/redshift/${var.cluster_identifier}/"
  )
}
