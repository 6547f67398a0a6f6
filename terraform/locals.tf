data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  provisioned = var.deployment == "provisioned"
  serverless  = var.deployment == "serverless"
  account_id  = data.aws_caller_identity.current.account_id

  # Prefix of the names that add a suffix of their own (roles, scheduled actions), short
  # enough for IAM's 64 characters whatever the cluster identifier's length.
  short_name = trimsuffix(substr(var.cluster_identifier, 0, 40), "-")

  # Known before the cluster exists, so that the policies naming it (audit bucket, scheduler)
  # need not wait for it.
  cluster_arn = "arn:${data.aws_partition.current.partition}:redshift:${var.region}:${local.account_id}:cluster:${var.cluster_identifier}"

  # S3's naming rules, for the buckets this stack names itself: 3 to 63 lower-case letters,
  # digits and hyphens, a letter or digit at each end, and no reserved prefix or suffix.
  valid_bucket_name = {
    for bucket, name in { load = local.load_bucket_name, audit_logs = local.audit_log_bucket_name } :
    bucket => (
      can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", name))
      && !can(regex("^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|--table-s3)$", name))
    )
  }
}
