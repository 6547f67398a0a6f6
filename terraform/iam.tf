locals {
  read_buckets = distinct([for source in var.s3_read_sources : source.bucket])
  # A folder (ending in /) grants what is inside it, and a single object only itself:
  # "log_data*" would also grant log_data-archive/ and log_data.bak.
  read_objects = flatten([
    for source in var.s3_read_sources : [
      for prefix in source.prefixes : "arn:aws:s3:::${source.bucket}/${endswith(prefix, "/") ? "${prefix}*" : prefix}"
    ]
  ])
  # ListBucket is granted per bucket, narrowed to the listed prefixes by condition.
  list_prefixes = {
    for source in var.s3_read_sources : source.bucket => flatten([
      for prefix in source.prefixes : endswith(prefix, "/") ? [prefix, "${prefix}*"] : [prefix]
    ])...
  }
}

resource "aws_iam_role" "redshift_s3_read" {
  name        = "${var.cluster_identifier}-redshift-s3-read"
  description = "Assumed by the ${var.cluster_identifier} Redshift ${local.serverless ? "Serverless namespace" : "cluster"} to COPY from the listed S3 prefixes"

  # Redshift (and, for a namespace, Redshift Serverless, as AWS asks) acting for this account
  # only: another account's cluster cannot have the role assumed for it (confused deputy).
  # aws:SourceArn is left out: Redshift does not document it for the roles it assumes, and a
  # condition on a key the service does not send would refuse every COPY.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = concat(["redshift.amazonaws.com"], local.serverless ? ["redshift-serverless.amazonaws.com"] : []) }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "s3_read" {
  name = "s3-read-listed-prefixes"
  role = aws_iam_role.redshift_s3_read.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid      = "ReadListedObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = local.read_objects
      }],
      [for index, bucket in local.read_buckets : {
        Sid       = "ListListedPrefixes${index}"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = "arn:aws:s3:::${bucket}"
        Condition = { StringLike = { "s3:prefix" = distinct(flatten(local.list_prefixes[bucket])) } }
      }],
      [{
        Sid      = "LocateListedBuckets"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation"]
        Resource = [for bucket in local.read_buckets : "arn:aws:s3:::${bucket}"]
      }],
      # The COPY manifests in the project's load bucket (load_bucket.tf): read only, and only
      # under manifests/. The loader's own credentials write them, never the cluster.
      [{
        Sid      = "ReadLoadManifests"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["arn:aws:s3:::${aws_s3_bucket.load.bucket}/${local.manifest_prefix}*"]
      }],
      [{
        Sid       = "ListLoadManifests"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = "arn:aws:s3:::${aws_s3_bucket.load.bucket}"
        Condition = { StringLike = { "s3:prefix" = [local.manifest_prefix, "${local.manifest_prefix}*"] } }
      }],
      # With a customer-managed key the manifests are encrypted with it, and reading them needs
      # Decrypt through S3 (the AWS-managed key's policy already allows that).
      var.kms_key_arn == null ? [] : [{
        Sid       = "DecryptLoadManifests"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" } }
      }]
    )
  })
}
