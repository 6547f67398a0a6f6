# Audit logging of the provisioned cluster: connections, user changes and every query, to a
# bucket Terraform creates (or audit_log_bucket). Serverless exports the same logs to
# CloudWatch Logs instead (serverless.tf): it cannot write them to S3.
#
# Not the load bucket under a prefix: Redshift audit logging supports SSE-S3 only, and the
# load bucket encrypts with KMS like the cluster.

locals {
  create_audit_log_bucket = local.provisioned && var.audit_logging && var.audit_log_bucket == null

  # <cluster_identifier>-audit-<account id>: at most 44 + 7 + 12 = 63 characters.
  audit_log_bucket_name = "${trimsuffix(substr(var.cluster_identifier, 0, 44), "-")}-audit-${local.account_id}"
  audit_log_prefix      = "redshift-audit/${var.cluster_identifier}/"

  # Redshift writes the logs as itself, for this account's cluster only (confused deputy).
  redshift_logging_condition = {
    StringEquals = {
      "aws:SourceAccount" = local.account_id
      "aws:SourceArn"     = local.cluster_arn
    }
  }
}

resource "aws_s3_bucket" "audit_logs" {
  #checkov:skip=CKV_AWS_145:Redshift audit logging supports only SSE-S3 (AES-256) buckets, not SSE-KMS.
  #checkov:skip=CKV_AWS_18:The audit logs are themselves the access record; logging the log bucket would need yet another bucket.
  #checkov:skip=CKV_AWS_144:Audit logs of a single-region warehouse; a replica would double their cost for no recovery need here.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to a new log file; they are read when auditing.
  #checkov:skip=CKV_AWS_21:Redshift writes each log file once under a new key, only Redshift may write, and expiry is the lifecycle's: versions would add nothing.
  count = local.create_audit_log_bucket ? 1 : 0

  bucket = local.audit_log_bucket_name
  # `make infra-destroy` must not fail on the logs Redshift left: they go with the stack.
  # Keep them beyond it with audit_log_bucket, a bucket of your own.
  force_destroy = true

  lifecycle {
    precondition {
      condition     = local.valid_bucket_name.audit_logs
      error_message = "The audit log bucket's name (${local.audit_log_bucket_name}) is not a valid S3 bucket name: set audit_log_bucket to a bucket of yours."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "audit_logs" {
  count = local.create_audit_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit_logs[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "audit_logs" {
  count = local.create_audit_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit_logs[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit_logs" {
  count = local.create_audit_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit_logs[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "audit_logs" {
  count = local.create_audit_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit_logs[0].id

  rule {
    id     = "expire-audit-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.audit_log_retention_days
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

# What AWS documents for Redshift audit logging, narrowed to this cluster and its prefix.
resource "aws_s3_bucket_policy" "audit_logs" {
  count = local.create_audit_log_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit_logs[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "RedshiftChecksTheBucket"
        Effect    = "Allow"
        Principal = { Service = "redshift.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = aws_s3_bucket.audit_logs[0].arn
        Condition = local.redshift_logging_condition
      },
      {
        Sid       = "RedshiftWritesAuditLogs"
        Effect    = "Allow"
        Principal = { Service = "redshift.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.audit_logs[0].arn}/${local.audit_log_prefix}*"
        Condition = local.redshift_logging_condition
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.audit_logs[0].arn, "${aws_s3_bucket.audit_logs[0].arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  # S3 refuses concurrent changes to a bucket's access settings (OperationAborted).
  depends_on = [aws_s3_bucket_public_access_block.audit_logs]
}

resource "aws_redshift_logging" "this" {
  count = local.provisioned && var.audit_logging ? 1 : 0

  cluster_identifier   = aws_redshift_cluster.this[0].cluster_identifier
  log_destination_type = "s3"
  bucket_name          = coalesce(var.audit_log_bucket, one(aws_s3_bucket.audit_logs[*].bucket))
  s3_key_prefix        = local.audit_log_prefix

  # Redshift checks that it may write before it turns logging on.
  depends_on = [aws_s3_bucket_policy.audit_logs]
}
