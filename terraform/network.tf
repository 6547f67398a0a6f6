data "aws_vpc" "default" {
  count   = var.vpc_id == null ? 1 : 0
  default = true
}

data "aws_subnets" "default" {
  count = var.vpc_id == null ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default[0].id]
  }
}

locals {
  vpc_id     = var.vpc_id != null ? var.vpc_id : data.aws_vpc.default[0].id
  subnet_ids = var.vpc_id != null ? var.subnet_ids : data.aws_subnets.default[0].ids
}

resource "aws_redshift_subnet_group" "this" {
  count = local.provisioned ? 1 : 0

  name        = "${var.cluster_identifier}-subnets"
  description = "Subnets of the ${var.cluster_identifier} Redshift cluster"
  subnet_ids  = local.subnet_ids

  lifecycle {
    precondition {
      condition     = length(local.subnet_ids) > 0
      error_message = "No subnets for the cluster: with vpc_id set, list its subnets in subnet_ids."
    }
  }
}

moved {
  from = aws_redshift_subnet_group.this
  to   = aws_redshift_subnet_group.this[0]
}

resource "aws_security_group" "redshift" {
  name        = "${var.cluster_identifier}-redshift"
  description = "Redshift port 5439 from the allowed CIDRs and security groups only"
  vpc_id      = local.vpc_id

  lifecycle {
    precondition {
      condition     = var.allow_wide_cidr_blocks || alltrue([for cidr in var.allowed_cidr_blocks : tonumber(split("/", cidr)[1]) >= 8])
      error_message = "allowed_cidr_blocks must be /8 or narrower (several blocks can still cover all of IPv4): list the addresses that need the cluster, or set allow_wide_cidr_blocks = true."
    }
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_cidr" {
  for_each = toset(var.allowed_cidr_blocks)

  security_group_id = aws_security_group.redshift.id
  description       = "Redshift from allowed CIDR ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 5439
  to_port           = 5439
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "from_security_group" {
  for_each = toset(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.redshift.id
  description                  = "Redshift from allowed security group ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = 5439
  to_port                      = 5439
  referenced_security_group_id = each.value
}

# COPY reaches S3 over HTTPS, through the internet unless enhanced VPC routing sends it to an endpoint.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.redshift.id
  description       = "HTTPS out, for COPY from S3 and for Secrets Manager"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
