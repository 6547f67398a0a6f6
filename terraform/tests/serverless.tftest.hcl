# deployment = "serverless", offline: every AWS call is answered by a mock provider.
mock_provider "aws" {
  mock_data "aws_vpc" {
    defaults = { id = "vpc-0a1b2c3d4e5f60718" }
  }
  mock_data "aws_subnets" {
    defaults = { ids = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "subnet-0123456789abcdef0"] }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0a1b2c3d4e5f60718" }
  }
  mock_resource "aws_redshiftserverless_namespace" {
    defaults = {
      arn                       = "arn:aws:redshift-serverless:us-west-2:123456789012:namespace/0a1b2c3d-1111-2222-3333-444455556666"
      admin_password_secret_arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift!sparkify-admin-AbCdEf"
    }
  }
  mock_resource "aws_redshiftserverless_workgroup" {
    defaults = {
      arn = "arn:aws:redshift-serverless:us-west-2:123456789012:workgroup/0a1b2c3d-7777-8888-9999-aaaabbbbcccc"
      endpoint = [{
        address      = "sparkify.123456789012.us-west-2.redshift-serverless.amazonaws.com"
        port         = 5439
        vpc_endpoint = []
      }]
    }
  }
}

variables {
  deployment          = "serverless"
  allowed_cidr_blocks = ["203.0.113.10/32"]
}

run "serverless_defaults" {
  command = apply

  assert {
    condition = alltrue([
      length(aws_redshift_cluster.this) == 0, length(aws_redshift_subnet_group.this) == 0,
      length(aws_redshift_parameter_group.this) == 0, length(aws_redshift_logging.this) == 0,
      length(aws_s3_bucket.audit_logs) == 0,
    ])
    error_message = "A Serverless deployment creates no cluster, nor what only a cluster uses."
  }

  assert {
    condition     = aws_redshiftserverless_workgroup.this[0].publicly_accessible == false
    error_message = "The workgroup must never be publicly accessible."
  }

  assert {
    condition = (
      toset(aws_redshiftserverless_workgroup.this[0].subnet_ids) == toset(["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "subnet-0123456789abcdef0"])
      && aws_redshiftserverless_workgroup.this[0].security_group_ids == toset([aws_security_group.redshift.id])
      && aws_redshiftserverless_workgroup.this[0].port == 5439
    )
    error_message = "The workgroup must sit in the cluster's subnets, behind the cluster's security group."
  }

  assert {
    condition     = [for rule in aws_vpc_security_group_ingress_rule.from_cidr : [rule.cidr_ipv4, rule.from_port, rule.to_port]] == [["203.0.113.10/32", 5439, 5439]]
    error_message = "Ingress must come from exactly the allowed CIDR blocks, on port 5439 only."
  }

  assert {
    condition = (
      aws_redshiftserverless_workgroup.this[0].base_capacity == 8 && aws_redshiftserverless_workgroup.this[0].max_capacity == 32
      && aws_redshiftserverless_workgroup.this[0].namespace_name == aws_redshiftserverless_namespace.this[0].namespace_name
    )
    error_message = "The workgroup must run 8 to 32 RPUs by default, in the namespace."
  }

  assert {
    condition = (
      aws_redshiftserverless_namespace.this[0].manage_admin_password == true
      && aws_redshiftserverless_namespace.this[0].admin_user_password == null
      && aws_redshiftserverless_namespace.this[0].admin_username == "sparkify_admin"
      && aws_redshiftserverless_namespace.this[0].db_name == "sparkify"
    )
    error_message = "The admin password must be managed by Secrets Manager, never set in configuration."
  }

  assert {
    condition = (
      aws_redshiftserverless_namespace.this[0].default_iam_role_arn == aws_iam_role.redshift_s3_read.arn
      && aws_redshiftserverless_namespace.this[0].iam_roles == toset([aws_iam_role.redshift_s3_read.arn])
    )
    error_message = "The S3 read role must be the namespace's default IAM role, for COPY."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role.redshift_s3_read.assume_role_policy).Statement : [statement.Principal, statement.Condition]
      ] == [[
        { Service = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] },
        { StringEquals = { "aws:SourceAccount" = "123456789012" } },
    ]]
    error_message = "Redshift and Redshift Serverless, acting for this account only, must be able to assume the role."
  }

  assert {
    condition = (
      { for parameter in aws_redshiftserverless_workgroup.this[0].config_parameter : parameter.parameter_key => parameter.parameter_value }
      == local.serverless_config_parameters
      && local.serverless_config_parameters.require_ssl == "true"
      && local.serverless_config_parameters.enable_user_activity_logging == "true"
    )
    error_message = "The workgroup must require TLS and log user activity, and set every parameter AWS reports (else every plan shows a change)."
  }

  assert {
    condition = (
      aws_redshiftserverless_namespace.this[0].log_exports == toset(["connectionlog", "userlog", "useractivitylog"])
      && { for type, group in aws_cloudwatch_log_group.serverless_audit : type => [group.name, group.retention_in_days] } == {
        connectionlog   = ["/aws/redshift/sparkify/connectionlog", 365]
        userlog         = ["/aws/redshift/sparkify/userlog", 365]
        useractivitylog = ["/aws/redshift/sparkify/useractivitylog", 365]
      }
      && output.audit_log_location == "/aws/redshift/sparkify/"
    )
    error_message = "Audit logs must be exported to CloudWatch Logs, into groups that expire after audit_log_retention_days."
  }

  assert {
    condition = alltrue([
      aws_redshiftserverless_usage_limit.rpu_hours[0].resource_arn == aws_redshiftserverless_workgroup.this[0].arn,
      aws_redshiftserverless_usage_limit.rpu_hours[0].usage_type == "serverless-compute",
      aws_redshiftserverless_usage_limit.rpu_hours[0].period == "daily",
      aws_redshiftserverless_usage_limit.rpu_hours[0].amount == 24,
      aws_redshiftserverless_usage_limit.rpu_hours[0].breach_action == "deactivate",
    ])
    error_message = "The workgroup must stop user queries past 24 RPU-hours a day by default."
  }

  assert {
    condition = alltrue([
      output.deployment == "serverless",
      output.host == "sparkify.123456789012.us-west-2.redshift-serverless.amazonaws.com", output.port == 5439,
      output.database == "sparkify", output.cluster_identifier == "", output.workgroup_name == "sparkify",
      output.account_id == "123456789012", output.admin_username == "sparkify_admin",
      output.iam_role_arn == aws_iam_role.redshift_s3_read.arn, output.region == "us-west-2",
      output.admin_secret_arn == aws_redshiftserverless_namespace.this[0].admin_password_secret_arn,
      output.manifest_location == "s3://sparkify-load-123456789012/manifests", output.raw_load_lines == "false",
    ])
    error_message = "The outputs the loader and dbt read must all be present, for a workgroup."
  }

  assert {
    condition     = output.deployment_shape == "serverless workgroup: 8-32 RPU; at most 24 RPU-hours a day (deactivate); no budget"
    error_message = "deployment_shape must say what is billed: ${output.deployment_shape}"
  }
}

run "serverless_with_options" {
  command = plan

  variables {
    serverless_base_capacity             = 16
    serverless_max_capacity              = 64
    serverless_usage_limit_breach_action = "emit-metric"
    serverless_max_rpu_hours_per_day     = 48
    kms_key_arn                          = "arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
    enhanced_vpc_routing                 = true
    allowed_security_group_ids           = ["sg-0123456789abcdef0"]
  }

  assert {
    condition = (
      aws_redshiftserverless_workgroup.this[0].base_capacity == 16 && aws_redshiftserverless_workgroup.this[0].max_capacity == 64
      && aws_redshiftserverless_workgroup.this[0].enhanced_vpc_routing
    )
    error_message = "Capacity and enhanced VPC routing must follow the variables."
  }

  assert {
    condition     = aws_redshiftserverless_namespace.this[0].kms_key_id == var.kms_key_arn
    error_message = "The namespace must be encrypted with the customer KMS key, as the cluster would be."
  }

  assert {
    condition = (
      [for limit in aws_redshiftserverless_usage_limit.rpu_hours : [limit.amount, limit.breach_action]] == [[48, "emit-metric"]]
      && output.deployment_shape == "serverless workgroup: 16-64 RPU; at most 48 RPU-hours a day (emit-metric); no budget"
    )
    error_message = "The usage limit and its breach action must follow the variables."
  }

  assert {
    condition     = [for rule in aws_vpc_security_group_ingress_rule.from_security_group : rule.referenced_security_group_id] == ["sg-0123456789abcdef0"]
    error_message = "Listed security groups must reach the workgroup's port."
  }
}

run "serverless_without_usage_limit_or_audit_logs" {
  command = plan

  variables {
    serverless_max_rpu_hours_per_day = null
    audit_logging                    = false
  }

  assert {
    condition = (
      length(aws_redshiftserverless_usage_limit.rpu_hours) == 0
      && output.deployment_shape == "serverless workgroup: 8-32 RPU; no RPU-hour limit; no budget"
    )
    error_message = "serverless_max_rpu_hours_per_day = null must remove the limit, and say so."
  }

  assert {
    condition = (
      length(aws_cloudwatch_log_group.serverless_audit) == 0
      && try(length(aws_redshiftserverless_namespace.this[0].log_exports), 0) == 0
      && local.serverless_config_parameters.enable_user_activity_logging == "false"
      && output.audit_log_location == ""
    )
    error_message = "With audit_logging off, nothing is exported and user activity is not logged."
  }
}

run "rejects_a_public_workgroup" {
  command = plan

  variables {
    publicly_accessible = true
  }

  expect_failures = [aws_redshiftserverless_workgroup.this]
}

run "rejects_a_base_capacity_off_the_rpu_steps" {
  command = plan

  variables {
    serverless_base_capacity = 12
  }

  expect_failures = [var.serverless_base_capacity]
}

run "rejects_a_base_capacity_above_1024" {
  command = plan

  variables {
    serverless_base_capacity = 2048
    serverless_max_capacity  = 2048
  }

  expect_failures = [var.serverless_base_capacity]
}

run "rejects_a_max_capacity_out_of_range" {
  command = plan

  variables {
    serverless_max_capacity = 6000
  }

  expect_failures = [var.serverless_max_capacity]
}

run "rejects_a_max_capacity_below_the_base" {
  command = plan

  variables {
    serverless_base_capacity = 64
    serverless_max_capacity  = 32
  }

  expect_failures = [aws_redshiftserverless_workgroup.this]
}

run "rejects_an_unlimited_looking_usage_limit" {
  command = plan

  variables {
    serverless_max_rpu_hours_per_day = 0
  }

  expect_failures = [var.serverless_max_rpu_hours_per_day]
}

run "rejects_an_unknown_breach_action" {
  command = plan

  variables {
    serverless_usage_limit_breach_action = "disable"
  }

  expect_failures = [var.serverless_usage_limit_breach_action]
}

run "rejects_open_ingress_to_the_workgroup" {
  command = plan

  variables {
    allowed_cidr_blocks = ["0.0.0.0/0"]
  }

  expect_failures = [var.allowed_cidr_blocks]
}

run "rejects_ingress_to_the_workgroup_wider_than_a_slash_8" {
  command = plan

  variables {
    allowed_cidr_blocks = ["0.0.0.0/1", "128.0.0.0/1"]
  }

  expect_failures = [aws_security_group.redshift]
}

run "rejects_settings_only_a_cluster_has" {
  command = plan

  variables {
    pause_schedule   = "cron(0 19 ? * MON-FRI *)"
    audit_log_bucket = "sparkify-audit-logs"
  }

  expect_failures = [aws_redshiftserverless_namespace.this]
}

run "rejects_a_name_too_short_for_a_workgroup" {
  command = plan

  variables {
    cluster_identifier = "sp"
  }

  expect_failures = [aws_redshiftserverless_namespace.this]
}

run "requires_subnets_with_a_vpc" {
  command = plan

  variables {
    vpc_id = "vpc-0123456789abcdef0"
  }

  expect_failures = [aws_redshiftserverless_workgroup.this]
}
