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
}
