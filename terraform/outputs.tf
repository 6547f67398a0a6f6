output "host" {
  description = "Address of the cluster endpoint."
  value       = aws_redshift_cluster.this.dns_name
}

output "port" {
  description = "Port of the cluster endpoint."
  value       = aws_redshift_cluster.this.port
}

output "database" {
  description = "Database created in the cluster."
  value       = aws_redshift_cluster.this.database_name
}

output "cluster_identifier" {
  description = "Identifier of the cluster, for IAM authentication (GetClusterCredentials)."
  value       = aws_redshift_cluster.this.cluster_identifier
}

output "admin_username" {
  description = "Admin user of the cluster."
  value       = aws_redshift_cluster.this.master_username
}

output "iam_role_arn" {
  description = "Role the cluster assumes to COPY from S3; also its default IAM role."
  value       = aws_iam_role.redshift_s3_read.arn
}

output "region" {
  description = "Region of the cluster."
  value       = var.region
}

output "admin_secret_arn" {
  description = "Secrets Manager secret holding the admin password (the password itself is never in state or outputs)."
  value       = aws_redshift_cluster.this.master_password_secret_arn
}

output "security_group_id" {
  description = "Security group guarding port 5439."
  value       = aws_security_group.redshift.id
}

output "load_bucket" {
  description = "Bucket the project owns for the COPY manifests of each load; the cluster's role may read its manifests/ prefix."
  value       = aws_s3_bucket.load.bucket
}

output "manifest_location" {
  description = "S3 location (s3://bucket/manifests) where each load writes its COPY manifests, instead of the source bucket."
  value       = "s3://${aws_s3_bucket.load.bucket}/${trimsuffix(local.manifest_prefix, "/")}"
}
