# The project's own scratch bucket for the COPY manifests that each Redshift load writes, so
# that a source bucket (udacity-dend, say) is only ever read. The loader's credentials write
# the manifests; the cluster's role only reads them (iam.tf).

locals {
  # <cluster_identifier>-load-<account id>: at most 45 + 6 + 12 = 63 characters, and the
  # cluster identifier's rules (lower case, no double or trailing hyphen) keep it valid.
  load_bucket_name = coalesce(
    var.load_bucket_name,
    "${trimsuffix(substr(var.cluster_identifier, 0, 45), "-")}-load-${local.account_id}",
  )
  manifest_prefix = "manifests/"
}

resource "aws_s3_bucket" "load" {
  #checkov:skip=CKV_AWS_18:A scratch bucket of manifests that expire in days; its reads are COPYs, which the cluster's audit log records.
  #checkov:skip=CKV_AWS_144:The manifests are rewritten by every load and expire in days: a replica in another region would protect nothing.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to a manifest being written: the loader runs COPY itself right after.
  #checkov:skip=CKV_AWS_21:Every load overwrites its manifests, which are regenerated from the source listing: old versions would only pile up stale copies.
  bucket = local.load_bucket_name
  # Holds nothing but manifests, rewritten by each load: destroying the stack must not fail
  # because the last load left some behind.
  force_destroy = true

  lifecycle {
    precondition {
      condition     = local.valid_bucket_name.load
      error_message = "The load bucket's name (${local.load_bucket_name}) is not a valid S3 bucket name: set load_bucket_name."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "load" {
  bucket = aws_s3_bucket.load.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "load" {
  bucket = aws_s3_bucket.load.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Like the cluster: the customer-managed key when kms_key_arn is set, else the AWS-managed one.
resource "aws_s3_bucket_server_side_encryption_configuration" "load" {
  bucket = aws_s3_bucket.load.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "load" {
  bucket = aws_s3_bucket.load.id

  rule {
    id     = "expire-manifests"
    status = "Enabled"

    filter {
      prefix = local.manifest_prefix
    }

    expiration {
      days = var.load_manifest_expiry_days
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "load" {
  bucket = aws_s3_bucket.load.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.load.arn, "${aws_s3_bucket.load.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  # S3 refuses concurrent changes to a bucket's access settings (OperationAborted).
  depends_on = [aws_s3_bucket_public_access_block.load]
}
