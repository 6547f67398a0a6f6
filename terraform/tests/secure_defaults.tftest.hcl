# Offline: every AWS call is answered by a mock provider.
mock_provider "aws" {
  mock_data "aws_vpc" {
    defaults = { id = "vpc-0a1b2c3d4e5f60718" }
  }
  mock_data "aws_subnets" {
    defaults = { ids = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"] }
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
}

variables {
  allowed_cidr_blocks = ["203.0.113.10/32", "198.51.100.0/24"]
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = aws_redshift_cluster.this[0].encrypted == true
    error_message = "The cluster must be encrypted at rest."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].publicly_accessible == false
    error_message = "The cluster must not be publicly accessible by default."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].manage_master_password == true && aws_redshift_cluster.this[0].master_password == null
    error_message = "The admin password must be managed by Secrets Manager, never set in configuration."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].master_username != "awsuser"
    error_message = "The admin user must not be the well-known awsuser."
  }

  assert {
    condition     = contains([for p in aws_redshift_parameter_group.this[0].parameter : "${p.name}=${p.value}"], "require_ssl=true")
    error_message = "require_ssl must be set in the parameter group."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].cluster_parameter_group_name == aws_redshift_parameter_group.this[0].name
    error_message = "The cluster must use the parameter group that requires SSL."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].automated_snapshot_retention_period >= 1 && aws_redshift_cluster.this[0].skip_final_snapshot == false
    error_message = "Automated snapshots must be retained and a final snapshot taken by default."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].cluster_type == "single-node"
    error_message = "One node must make a single-node cluster."
  }

  assert {
    condition = alltrue([
      for rule in aws_vpc_security_group_ingress_rule.from_cidr : rule.from_port == 5439 && rule.to_port == 5439 && rule.ip_protocol == "tcp"
    ])
    error_message = "Ingress must be TCP port 5439 only."
  }

  assert {
    condition     = toset([for rule in aws_vpc_security_group_ingress_rule.from_cidr : rule.cidr_ipv4]) == toset(var.allowed_cidr_blocks)
    error_message = "Ingress must come from exactly the allowed CIDR blocks."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.from_security_group) == 0
    error_message = "No security group may reach the cluster unless listed."
  }

  assert {
    condition = alltrue([
      for rule in concat(values(aws_vpc_security_group_ingress_rule.from_cidr), [aws_vpc_security_group_egress_rule.https]) : rule.description != null && rule.description != ""
    ])
    error_message = "Every security group rule must carry a description."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.https.from_port == 443 && aws_vpc_security_group_egress_rule.https.to_port == 443
    error_message = "Egress must be HTTPS only."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].default_iam_role_arn == aws_iam_role.redshift_s3_read.arn && contains(aws_redshift_cluster.this[0].iam_roles, aws_iam_role.redshift_s3_read.arn)
    error_message = "The S3 read role must be attached to the cluster as its default IAM role."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role.redshift_s3_read.assume_role_policy).Statement :
      [statement.Principal, statement.Action, statement.Condition]
      ] == [[
        { Service = ["redshift.amazonaws.com"] }, "sts:AssumeRole",
        { StringEquals = { "aws:SourceAccount" = "123456789012" } },
    ]]
    error_message = "Only Redshift, acting for this account (aws:SourceAccount), may assume the role."
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.s3_read.policy).Statement :
      [for resource in flatten([statement.Resource]) : resource != "*" && startswith(resource, "arn:aws:s3:::udacity-dend")]
      if !endswith(statement.Sid, "LoadManifests")
    ]))
    error_message = "The S3 policy must name the listed bucket only, with no * resource."
  }

  assert {
    condition     = aws_s3_bucket.load.bucket == "sparkify-load-123456789012" && output.load_bucket == aws_s3_bucket.load.bucket
    error_message = "The load bucket must be named after the cluster and the account."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.load.bucket == aws_s3_bucket.load.id,
      aws_s3_bucket_public_access_block.load.block_public_acls,
      aws_s3_bucket_public_access_block.load.block_public_policy,
      aws_s3_bucket_public_access_block.load.ignore_public_acls,
      aws_s3_bucket_public_access_block.load.restrict_public_buckets,
    ])
    error_message = "The load bucket must block all public access."
  }

  assert {
    condition     = [for rule in aws_s3_bucket_ownership_controls.load.rule : rule.object_ownership] == ["BucketOwnerEnforced"]
    error_message = "The load bucket must disable ACLs (BucketOwnerEnforced)."
  }

  assert {
    condition = aws_s3_bucket_server_side_encryption_configuration.load.bucket == aws_s3_bucket.load.id && [
      for rule in aws_s3_bucket_server_side_encryption_configuration.load.rule : [
        for default in rule.apply_server_side_encryption_by_default : default.sse_algorithm
      ]
    ] == [["aws:kms"]]
    error_message = "The load bucket must be encrypted with KMS by default."
  }

  assert {
    condition = [
      for rule in aws_s3_bucket_lifecycle_configuration.load.rule : [for expiration in rule.expiration : expiration.days]
      if rule.status == "Enabled" && [for filter in rule.filter : filter.prefix] == ["manifests/"]
    ] == [[3]]
    error_message = "Manifests must expire after load_manifest_expiry_days (3 by default)."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_s3_bucket_policy.load.policy).Statement :
      statement.Effect == "Deny" && statement.Principal == "*" && statement.Action == "s3:*"
      && statement.Condition == { Bool = { "aws:SecureTransport" = "false" } }
    ])
    error_message = "The load bucket's policy must deny every request not made over TLS."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.s3_read.policy).Statement : statement
      if anytrue([for resource in flatten([statement.Resource]) : strcontains(resource, "sparkify-load-")])
      ] == [
      {
        Sid      = "ReadLoadManifests", Effect = "Allow", Action = ["s3:GetObject"],
        Resource = ["arn:aws:s3:::sparkify-load-123456789012/manifests/*"]
      },
      {
        Sid       = "ListLoadManifests", Effect = "Allow", Action = ["s3:ListBucket"],
        Resource  = "arn:aws:s3:::sparkify-load-123456789012",
        Condition = { StringLike = { "s3:prefix" = ["manifests/", "manifests/*"] } }
      },
    ]
    error_message = "The role may only read and list manifests/ of the load bucket."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_iam_role_policy.s3_read.policy).Statement : flatten([statement.Resource]) if statement.Sid == "ReadListedObjects"
      ])) == toset([
      "arn:aws:s3:::udacity-dend/log_data/*",
      "arn:aws:s3:::udacity-dend/song_data/*",
      "arn:aws:s3:::udacity-dend/log_json_path.json",
    ])
    error_message = "GetObject must be scoped to the listed folders (folder/*) and objects (exact ARN), so log_data does not also grant log_data-archive."
  }

  assert {
    condition     = can(regex("^sparkify-final-[0-9]{14}$", aws_redshift_cluster.this[0].final_snapshot_identifier))
    error_message = "The final snapshot must be named after the cluster's creation time, so a second destroy does not collide with the first one's snapshot."
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.s3_read.policy).Statement :
      [for action in flatten([statement.Action]) : contains(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"], action)]
    ]))
    error_message = "The role may only read from S3."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].enhanced_vpc_routing == false
    error_message = "Enhanced VPC routing is off unless asked for."
  }

  assert {
    condition = (
      length(aws_redshift_logging.this) == 1
      && aws_redshift_logging.this[0].cluster_identifier == "sparkify"
      && aws_redshift_logging.this[0].bucket_name == "sparkify-audit-123456789012"
      && aws_redshift_logging.this[0].s3_key_prefix == "redshift-audit/sparkify/"
      && aws_redshift_logging.this[0].log_destination_type == "s3"
      && contains([for p in aws_redshift_parameter_group.this[0].parameter : "${p.name}=${p.value}"], "enable_user_activity_logging=true")
    )
    error_message = "Audit logging, user activity included, must be on by default, to the bucket Terraform creates."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket.audit_logs[0].bucket == "sparkify-audit-123456789012",
      aws_s3_bucket_public_access_block.audit_logs[0].block_public_acls,
      aws_s3_bucket_public_access_block.audit_logs[0].block_public_policy,
      aws_s3_bucket_public_access_block.audit_logs[0].ignore_public_acls,
      aws_s3_bucket_public_access_block.audit_logs[0].restrict_public_buckets,
      [for rule in aws_s3_bucket_ownership_controls.audit_logs[0].rule : rule.object_ownership] == ["BucketOwnerEnforced"],
    ])
    error_message = "The audit log bucket must be private: public access blocked, ACLs disabled."
  }

  assert {
    condition = [
      for rule in aws_s3_bucket_server_side_encryption_configuration.audit_logs[0].rule : [
        for default in rule.apply_server_side_encryption_by_default : default.sse_algorithm
      ]
    ] == [["AES256"]]
    error_message = "The audit log bucket must be encrypted with SSE-S3, the only encryption Redshift audit logging supports."
  }

  assert {
    condition = [
      for rule in aws_s3_bucket_lifecycle_configuration.audit_logs[0].rule : [for expiration in rule.expiration : expiration.days]
      if rule.id == "expire-audit-logs" && rule.status == "Enabled"
    ] == [[365]]
    error_message = "Audit logs must expire after audit_log_retention_days (365 by default)."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_s3_bucket_policy.audit_logs[0].policy).Statement :
      [statement.Principal, statement.Action, statement.Condition] if statement.Effect == "Allow"
      ] == [
      for action in ["s3:GetBucketAcl", "s3:PutObject"] : [
        { Service = "redshift.amazonaws.com" }, action,
        { StringEquals = { "aws:SourceAccount" = "123456789012", "aws:SourceArn" = "arn:aws:redshift:us-west-2:123456789012:cluster:sparkify" } },
      ]
    ]
    error_message = "The audit log bucket may be written by Redshift only, for this account's cluster only."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_s3_bucket_policy.audit_logs[0].policy).Statement :
      endswith(statement.Resource, "/redshift-audit/sparkify/*") if statement.Action == "s3:PutObject"
    ])
    error_message = "Redshift may write under the cluster's audit prefix only."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_s3_bucket_policy.audit_logs[0].policy).Statement :
      statement.Effect == "Deny" && statement.Condition == { Bool = { "aws:SecureTransport" = "false" } }
    ])
    error_message = "The audit log bucket's policy must deny every request not made over TLS."
  }

  assert {
    condition = alltrue([
      length(aws_redshiftserverless_namespace.this) == 0, length(aws_redshiftserverless_workgroup.this) == 0,
      length(aws_redshiftserverless_usage_limit.rpu_hours) == 0, length(aws_cloudwatch_log_group.serverless_audit) == 0,
    ])
    error_message = "The default deployment creates no Serverless resource."
  }

  assert {
    condition = alltrue([
      length(aws_redshift_scheduled_action.this) == 0, length(aws_iam_role.scheduler) == 0,
      length(aws_redshift_usage_limit.concurrency_scaling) == 0, length(aws_budgets_budget.monthly) == 0,
    ])
    error_message = "No schedule, concurrency scaling limit or budget unless asked for."
  }

  assert {
    condition = alltrue([
      output.deployment == "provisioned", output.host == aws_redshift_cluster.this[0].dns_name, output.port == 5439,
      output.database == "sparkify", output.cluster_identifier == "sparkify", output.workgroup_name == "",
      output.account_id == "123456789012", output.admin_username == "sparkify_admin",
      output.iam_role_arn == aws_iam_role.redshift_s3_read.arn, output.region == "us-west-2",
      output.admin_secret_arn == aws_redshift_cluster.this[0].master_password_secret_arn,
      output.manifest_location == "s3://sparkify-load-123456789012/manifests", output.raw_load_lines == "true",
    ])
    error_message = "The outputs the loader and dbt read must all be present, for a provisioned cluster."
  }

  assert {
    condition     = output.deployment_shape == "provisioned cluster: 1 x ra3.large (single-node); no budget"
    error_message = "deployment_shape must say what is billed: ${output.deployment_shape}"
  }

  assert {
    condition     = output.audit_log_location == "s3://sparkify-audit-123456789012/redshift-audit/sparkify/"
    error_message = "audit_log_location must name the audit bucket and prefix."
  }
}

run "multi_node_with_options" {
  command = plan

  variables {
    number_of_nodes            = 3
    publicly_accessible        = true
    kms_key_arn                = "arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
    audit_log_bucket           = "sparkify-audit-logs"
    enhanced_vpc_routing       = true
    final_snapshot_on_destroy  = false
    allowed_security_group_ids = ["sg-0123456789abcdef0"]
    s3_read_sources            = [{ bucket = "my-sparkify-copy", prefixes = ["raw/log_data/", "raw/song_data/"] }]
    load_bucket_name           = "my-sparkify-manifests"
    load_manifest_expiry_days  = 7
  }

  assert {
    condition     = aws_redshift_cluster.this[0].cluster_type == "multi-node" && aws_redshift_cluster.this[0].number_of_nodes == 3
    error_message = "Three nodes must make a multi-node cluster."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].publicly_accessible && aws_redshift_cluster.this[0].kms_key_id == var.kms_key_arn
    error_message = "Public access and the customer KMS key must follow the variables."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].enhanced_vpc_routing
    error_message = "Enhanced VPC routing must follow the variable."
  }

  assert {
    condition = (
      [for logging in aws_redshift_logging.this : logging.bucket_name] == ["sparkify-audit-logs"]
      && length(aws_s3_bucket.audit_logs) == 0 && length(aws_s3_bucket_policy.audit_logs) == 0
      && output.audit_log_location == "s3://sparkify-audit-logs/redshift-audit/sparkify/"
    )
    error_message = "With audit_log_bucket, the logs must go to that bucket, and Terraform must create none."
  }

  assert {
    condition     = aws_redshift_cluster.this[0].skip_final_snapshot && aws_redshift_cluster.this[0].final_snapshot_identifier == null
    error_message = "final_snapshot_on_destroy = false must skip the final snapshot."
  }

  assert {
    condition     = [for rule in aws_vpc_security_group_ingress_rule.from_security_group : rule.referenced_security_group_id] == ["sg-0123456789abcdef0"]
    error_message = "Listed security groups must reach port 5439."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_iam_role_policy.s3_read.policy).Statement : flatten([statement.Resource]) if statement.Sid == "ReadListedObjects"
    ])) == toset(["arn:aws:s3:::my-sparkify-copy/raw/log_data/*", "arn:aws:s3:::my-sparkify-copy/raw/song_data/*"])
    error_message = "GetObject must follow s3_read_sources."
  }

  assert {
    condition = aws_s3_bucket.load.bucket == "my-sparkify-manifests" && output.manifest_location == "s3://my-sparkify-manifests/manifests" && [
      for statement in jsondecode(aws_iam_role_policy.s3_read.policy).Statement : statement.Resource if statement.Sid == "ReadLoadManifests"
    ] == [["arn:aws:s3:::my-sparkify-manifests/manifests/*"]]
    error_message = "load_bucket_name must name the load bucket, its output and the role's grant."
  }

  assert {
    condition = [
      for rule in aws_s3_bucket_lifecycle_configuration.load.rule : [for expiration in rule.expiration : expiration.days] if rule.id == "expire-manifests"
    ] == [[7]]
    error_message = "Manifests must expire after load_manifest_expiry_days."
  }

  assert {
    condition = [
      for rule in aws_s3_bucket_server_side_encryption_configuration.load.rule : [
        for default in rule.apply_server_side_encryption_by_default : default.kms_master_key_id
      ]
    ] == [[var.kms_key_arn]]
    error_message = "The load bucket must be encrypted with the customer KMS key, like the cluster."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.s3_read.policy).Statement : [statement.Action, statement.Resource] if statement.Sid == "DecryptLoadManifests"
    ] == [[["kms:Decrypt"], var.kms_key_arn]]
    error_message = "With a customer KMS key, the role must be able to decrypt the manifests."
  }
}

run "derives_a_valid_load_bucket_name_from_a_long_cluster_identifier" {
  command = plan

  variables {
    # 47 characters, the 45th a hyphen: truncated to 45, the hyphen must go.
    cluster_identifier = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr-st"
  }

  assert {
    condition     = aws_s3_bucket.load.bucket == "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr-load-123456789012"
    error_message = "The derived load bucket name must fit in 63 characters without a double hyphen."
  }
}

run "audit_logging_off_turns_user_activity_logging_off_too" {
  command = plan

  variables {
    audit_logging = false
  }

  assert {
    condition = (
      length(aws_redshift_logging.this) == 0 && length(aws_s3_bucket.audit_logs) == 0
      && contains([for p in aws_redshift_parameter_group.this[0].parameter : "${p.name}=${p.value}"], "enable_user_activity_logging=false")
      && output.audit_log_location == ""
    )
    error_message = "With audit_logging off, no bucket, no logging, and no user activity log that nothing would receive."
  }
}

run "rejects_an_audit_retention_cloudwatch_lacks" {
  command = plan

  variables {
    audit_log_retention_days = 100
  }

  expect_failures = [var.audit_log_retention_days]
}

run "rejects_an_unknown_deployment" {
  command = plan

  variables {
    deployment = "dedicated"
  }

  expect_failures = [var.deployment]
}

run "rejects_manifests_that_never_expire" {
  command = plan

  variables {
    load_manifest_expiry_days = 0
  }

  expect_failures = [var.load_manifest_expiry_days]
}

run "rejects_an_invalid_load_bucket_name" {
  command = plan

  variables {
    load_bucket_name = "My.Bucket"
  }

  expect_failures = [var.load_bucket_name]
}

run "rejects_open_ingress" {
  command = plan

  variables {
    allowed_cidr_blocks = ["203.0.113.10/32", "0.0.0.0/0"]
  }

  expect_failures = [var.allowed_cidr_blocks]
}

run "rejects_open_ingress_written_otherwise" {
  command = plan

  variables {
    allowed_cidr_blocks = ["0.0.0.0/00"]
  }

  expect_failures = [var.allowed_cidr_blocks]
}

run "rejects_ingress_wider_than_a_slash_8" {
  command = plan

  variables {
    allowed_cidr_blocks = ["0.0.0.0/1", "128.0.0.0/1"]
  }

  expect_failures = [aws_security_group.redshift]
}

run "allows_wide_ingress_only_when_asked" {
  command = plan

  variables {
    allowed_cidr_blocks    = ["10.0.0.0/7"]
    allow_wide_cidr_blocks = true
  }

  assert {
    condition     = [for rule in aws_vpc_security_group_ingress_rule.from_cidr : rule.cidr_ipv4] == ["10.0.0.0/7"]
    error_message = "allow_wide_cidr_blocks = true must let a block wider than /8 through."
  }
}

run "rejects_retired_node_types" {
  command = plan

  variables {
    node_type = "ds2.xlarge"
  }

  expect_failures = [var.node_type]
}

run "rejects_awsuser" {
  command = plan

  variables {
    admin_username = "awsuser"
  }

  expect_failures = [var.admin_username]
}

run "rejects_wildcard_prefixes" {
  command = plan

  variables {
    s3_read_sources = [{ bucket = "udacity-dend", prefixes = ["*"] }]
  }

  expect_failures = [var.s3_read_sources]
}

run "requires_subnets_with_a_vpc" {
  command = plan

  variables {
    vpc_id = "vpc-0123456789abcdef0"
  }

  expect_failures = [aws_redshift_subnet_group.this]
}
