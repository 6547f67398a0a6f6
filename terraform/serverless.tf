# Redshift Serverless (deployment = "serverless"): a namespace (the data, the admin user, the
# roles, the key) and a workgroup (the compute and the network), in place of the cluster.

locals {
  # Exported to CloudWatch Logs, the only destination Serverless has for audit logs.
  serverless_log_types = local.serverless && var.audit_logging ? ["connectionlog", "userlog", "useractivitylog"] : []

  # Every parameter the workgroup reports back: one left out would show as a change in every
  # plan. The values are AWS's defaults except where noted.
  serverless_config_parameters = {
    auto_mv                          = "true"
    datestyle                        = "ISO, MDY"
    enable_case_sensitive_identifier = "false"
    enable_user_activity_logging     = tostring(var.audit_logging) # as on the cluster
    max_query_execution_time         = "14400"
    query_group                      = "default"
    require_ssl                      = "true" # as on the cluster
    search_path                      = "$user, public"
    use_fips_ssl                     = "false"
  }

  # What only a provisioned cluster has, refused rather than silently ignored on Serverless.
  provisioned_only_settings = compact([
    var.audit_log_bucket != null ? "audit_log_bucket (Serverless sends audit logs to CloudWatch Logs only)" : "",
    var.pause_schedule != null ? "pause_schedule (Serverless bills no compute while idle)" : "",
    var.resume_schedule != null ? "resume_schedule (Serverless bills no compute while idle)" : "",
    var.concurrency_scaling_max_minutes_per_day != null ? "concurrency_scaling_max_minutes_per_day (use serverless_max_rpu_hours_per_day)" : "",
  ])
}

# Created before the namespace, so that the logs Redshift exports land in groups that expire
# (left to Redshift, they would be kept forever).
resource "aws_cloudwatch_log_group" "serverless_audit" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs; a customer key would need a key policy granting logs.<region>.amazonaws.com, which this configuration does not own.
  for_each = toset(local.serverless_log_types)

  name              = "/aws/redshift/${var.cluster_identifier}/${each.key}"
  retention_in_days = var.audit_log_retention_days
}

resource "aws_redshiftserverless_namespace" "this" {
  count = local.serverless ? 1 : 0

  namespace_name = var.cluster_identifier
  db_name        = var.database_name

  admin_username        = var.admin_username
  manage_admin_password = true

  # null: AWS's own key, as the cluster's null is the AWS-managed one.
  kms_key_id = var.kms_key_arn

  iam_roles            = [aws_iam_role.redshift_s3_read.arn]
  default_iam_role_arn = aws_iam_role.redshift_s3_read.arn

  log_exports = local.serverless_log_types

  depends_on = [aws_cloudwatch_log_group.serverless_audit]

  lifecycle {
    precondition {
      condition     = length(var.cluster_identifier) >= 3
      error_message = "A Serverless namespace and workgroup need a name of at least 3 characters: lengthen cluster_identifier."
    }

    precondition {
      condition     = length(local.provisioned_only_settings) == 0
      error_message = "With deployment = \"serverless\", unset what only a provisioned cluster has: ${join("; ", local.provisioned_only_settings)}."
    }
  }
}

resource "aws_redshiftserverless_workgroup" "this" {
  count = local.serverless ? 1 : 0

  namespace_name = aws_redshiftserverless_namespace.this[0].namespace_name
  workgroup_name = var.cluster_identifier

  base_capacity = var.serverless_base_capacity
  max_capacity  = var.serverless_max_capacity

  port                 = 5439
  publicly_accessible  = false
  subnet_ids           = local.subnet_ids
  security_group_ids   = [aws_security_group.redshift.id]
  enhanced_vpc_routing = var.enhanced_vpc_routing

  dynamic "config_parameter" {
    for_each = local.serverless_config_parameters

    content {
      parameter_key   = config_parameter.key
      parameter_value = config_parameter.value
    }
  }

  lifecycle {
    precondition {
      condition     = !var.publicly_accessible
      error_message = "A Serverless workgroup is never publicly accessible: set publicly_accessible = false, and reach it from inside the VPC (allowed_security_group_ids), over a VPN or through a bastion."
    }

    precondition {
      condition     = var.serverless_max_capacity >= var.serverless_base_capacity
      error_message = "serverless_max_capacity (${var.serverless_max_capacity}) must be at least serverless_base_capacity (${var.serverless_base_capacity})."
    }

    precondition {
      condition     = length(local.subnet_ids) > 0
      error_message = "No subnets for the workgroup: with vpc_id set, list its subnets in subnet_ids."
    }
  }
}

# The ceiling on the bill: RPU-hours a day, beyond which the breach action applies.
resource "aws_redshiftserverless_usage_limit" "rpu_hours" {
  count = local.serverless && var.serverless_max_rpu_hours_per_day != null ? 1 : 0

  resource_arn  = aws_redshiftserverless_workgroup.this[0].arn
  usage_type    = "serverless-compute"
  period        = "daily"
  amount        = var.serverless_max_rpu_hours_per_day
  breach_action = var.serverless_usage_limit_breach_action
}
