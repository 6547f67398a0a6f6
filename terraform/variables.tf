variable "region" {
  description = "AWS region of the cluster. COPY reads S3 across regions, but the public Sparkify bucket is in us-west-2."
  type        = string
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-west-2."
  }
}

variable "cluster_identifier" {
  description = "Name of the Redshift cluster; also prefixes the names of the role, groups and snapshots."
  type        = string
  default     = "sparkify"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.cluster_identifier)) && !can(regex("--|-$", var.cluster_identifier))
    error_message = "cluster_identifier must be 1-63 lower-case letters, digits or single hyphens, start with a letter and not end with a hyphen."
  }
}

variable "node_type" {
  description = "Redshift node type."
  type        = string
  default     = "ra3.large"

  validation {
    condition     = can(regex("^(ra3|dc2)\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must be a Redshift node type such as ra3.large, ra3.xlplus or dc2.large."
  }
}

variable "number_of_nodes" {
  description = "Number of compute nodes: 1 makes a single-node cluster, 2 or more a multi-node one."
  type        = number
  default     = 1

  validation {
    condition     = var.number_of_nodes >= 1 && var.number_of_nodes <= 128 && floor(var.number_of_nodes) == var.number_of_nodes
    error_message = "number_of_nodes must be a whole number from 1 to 128."
  }
}

variable "database_name" {
  description = "Name of the database created in the cluster."
  type        = string
  default     = "sparkify"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,63}$", var.database_name))
    error_message = "database_name must be 1-64 lower-case letters, digits or underscores, starting with a letter."
  }
}

variable "admin_username" {
  description = "Admin user of the cluster. Its password is generated and kept by AWS Secrets Manager."
  type        = string
  default     = "sparkify_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,126}$", var.admin_username)) && var.admin_username != "awsuser"
    error_message = "admin_username must be lower-case letters, digits or underscores starting with a letter, and not the well-known awsuser."
  }
}

variable "publicly_accessible" {
  description = "Give the cluster a public endpoint, for the laptop workflow. Even then only allowed_cidr_blocks reach port 5439."
  type        = bool
  default     = false
}

variable "allowed_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to connect on port 5439, such as your office or laptop address (x.x.x.x/32)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_cidr_blocks : can(cidrhost(cidr, 0))])
    error_message = "allowed_cidr_blocks must hold IPv4 CIDR blocks such as 203.0.113.10/32."
  }

  validation {
    condition     = !contains([for cidr in var.allowed_cidr_blocks : try(cidrsubnet(cidr, 0, 0), cidr)], "0.0.0.0/0")
    error_message = "allowed_cidr_blocks must not contain 0.0.0.0/0: list the addresses that need the cluster."
  }
}

variable "allow_wide_cidr_blocks" {
  description = "Allow allowed_cidr_blocks wider than /8 (a sixteen-millionth of IPv4 or more). Off: 0.0.0.0/1 plus 128.0.0.0/1 would open the port to all of IPv4."
  type        = bool
  default     = false
}

variable "allowed_security_group_ids" {
  description = "Security groups (of an ETL host or a bastion, say) whose members may connect on port 5439."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "allowed_security_group_ids must hold security group ids such as sg-0123456789abcdef0."
  }
}

variable "vpc_id" {
  description = "Existing VPC to place the cluster in; null uses the region's default VPC."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be null or a VPC id such as vpc-0123456789abcdef0."
  }
}

variable "subnet_ids" {
  description = "Subnets of vpc_id for the cluster's subnet group; required with vpc_id, ignored without it (the default VPC's subnets are used)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids must hold subnet ids such as subnet-0123456789abcdef0."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key to encrypt the cluster with; null encrypts with the AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "snapshot_retention_days" {
  description = "Days to keep automated snapshots."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be from 1 to 35: automated snapshots stay on."
  }
}

variable "final_snapshot_on_destroy" {
  description = "Take a final snapshot when the cluster is destroyed. Snapshots are billed until you delete them."
  type        = bool
  default     = true
}

variable "audit_log_bucket" {
  description = "S3 bucket to receive Redshift audit logs (its policy must let Redshift write); null turns audit logging off."
  type        = string
  default     = null
}

variable "enhanced_vpc_routing" {
  description = "Route COPY and UNLOAD traffic through the VPC. With it on, COPY from S3 needs an S3 gateway endpoint (or a NAT) in the VPC."
  type        = bool
  default     = false
}

variable "s3_read_sources" {
  description = "S3 locations the cluster's role may read: per bucket, folders (ending in /, granting what they hold) and single objects (granting only themselves). The default is the public Sparkify source."
  type = list(object({
    bucket   = string
    prefixes = list(string)
  }))
  default = [{
    bucket   = "udacity-dend"
    prefixes = ["log_data/", "song_data/", "log_json_path.json"]
  }]

  validation {
    condition     = length(var.s3_read_sources) > 0 && alltrue([for source in var.s3_read_sources : length(source.prefixes) > 0])
    error_message = "s3_read_sources must list at least one bucket, each with at least one prefix."
  }

  validation {
    condition = alltrue(flatten([
      for source in var.s3_read_sources : concat(
        [can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", source.bucket))],
        [for prefix in source.prefixes : prefix != "" && !strcontains(prefix, "*")]
      )
    ]))
    error_message = "s3_read_sources needs plain bucket names and non-empty prefixes without wildcards, so the role reads only what is listed."
  }
}

variable "load_bucket_name" {
  description = "Name of the bucket the project creates for the COPY manifests of each load; null derives it from cluster_identifier and the account id (<cluster_identifier>-load-<account id>)."
  type        = string
  default     = null

  validation {
    condition = var.load_bucket_name == null || (
      can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.load_bucket_name))
      && !can(regex("^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|--table-s3)$", var.load_bucket_name))
    )
    error_message = "load_bucket_name must be null or 3-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit, without the prefixes and suffixes S3 reserves (no dots: they break TLS on virtual-hosted-style requests)."
  }
}

variable "load_manifest_expiry_days" {
  description = "Days after which the COPY manifests in the load bucket expire. A manifest is read only by the load that writes it."
  type        = number
  default     = 3

  validation {
    condition     = var.load_manifest_expiry_days >= 1 && var.load_manifest_expiry_days <= 365 && floor(var.load_manifest_expiry_days) == var.load_manifest_expiry_days
    error_message = "load_manifest_expiry_days must be a whole number from 1 to 365."
  }
}

variable "tags" {
  description = "Tags added to every resource, beside Project and ManagedBy."
  type        = map(string)
  default     = {}
}
