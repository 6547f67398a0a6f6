variable "region" {
  description = "AWS region of the cluster. COPY reads S3 across regions, but the public Sparkify bucket is in us-west-2."
  type        = string
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-west-2."
  }
}

variable "deployment" {
  description = "Which Redshift to create: \"provisioned\", a cluster of node_type x number_of_nodes billed by the hour while it runs, or \"serverless\", a namespace and workgroup billed by the RPU-second while queries run, within serverless_base_capacity..serverless_max_capacity."
  type        = string
  default     = "provisioned"

  validation {
    condition     = contains(["provisioned", "serverless"], var.deployment)
    error_message = "deployment must be \"provisioned\" or \"serverless\"."
  }
}

variable "cluster_identifier" {
  description = "Name of the Redshift cluster, or of the Serverless namespace and workgroup; also prefixes the names of the roles, groups, buckets and snapshots."
  type        = string
  default     = "sparkify"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.cluster_identifier)) && !can(regex("--|-$", var.cluster_identifier))
    error_message = "cluster_identifier must be 1-63 lower-case letters, digits or single hyphens, start with a letter and not end with a hyphen."
  }
}

variable "node_type" {
  description = "Node type of the provisioned cluster."
  type        = string
  default     = "ra3.large"

  validation {
    condition     = can(regex("^(ra3|dc2)\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must be a Redshift node type such as ra3.large, ra3.xlplus or dc2.large."
  }
}

variable "number_of_nodes" {
  description = "Number of compute nodes of the provisioned cluster: 1 makes a single-node cluster, 2 or more a multi-node one."
  type        = number
  default     = 1

  validation {
    condition     = var.number_of_nodes >= 1 && var.number_of_nodes <= 128 && floor(var.number_of_nodes) == var.number_of_nodes
    error_message = "number_of_nodes must be a whole number from 1 to 128."
  }
}

variable "database_name" {
  description = "Name of the database created in the cluster or namespace."
  type        = string
  default     = "sparkify"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,63}$", var.database_name))
    error_message = "database_name must be 1-64 lower-case letters, digits or underscores, starting with a letter."
  }
}

variable "admin_username" {
  description = "Admin user of the cluster or namespace. Its password is generated and kept by AWS Secrets Manager."
  type        = string
  default     = "sparkify_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,126}$", var.admin_username)) && var.admin_username != "awsuser"
    error_message = "admin_username must be lower-case letters, digits or underscores starting with a letter, and not the well-known awsuser."
  }
}

variable "publicly_accessible" {
  description = "Give the provisioned cluster a public endpoint, for the laptop workflow. Even then only allowed_cidr_blocks reach port 5439. A Serverless workgroup is never public: true is refused with deployment = \"serverless\"."
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
  description = "Customer-managed KMS key to encrypt the cluster or namespace (and the load bucket) with; null encrypts with a key AWS manages."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "snapshot_retention_days" {
  description = "Days to keep the provisioned cluster's automated snapshots (Serverless keeps its own recovery points)."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be from 1 to 35: automated snapshots stay on."
  }
}

variable "final_snapshot_on_destroy" {
  description = "Take a final snapshot when the provisioned cluster is destroyed. Snapshots are billed until you delete them. Destroying a Serverless namespace takes none."
  type        = bool
  default     = true
}

variable "audit_logging" {
  description = "Record connections, user changes and every query (user activity) for audit: a provisioned cluster writes them to an S3 bucket Terraform creates (or to audit_log_bucket), Serverless exports them to CloudWatch Logs, the only destination it supports. Off, user activity logging is off too."
  type        = bool
  default     = true
}

variable "audit_log_bucket" {
  description = "An existing S3 bucket of yours for the provisioned cluster's audit logs, instead of the one Terraform creates (whose logs `terraform destroy` deletes with it). Its policy must let redshift.amazonaws.com write, and it must use SSE-S3 encryption, the only one Redshift audit logging supports. Refused with deployment = \"serverless\"."
  type        = string
  default     = null

  validation {
    condition     = var.audit_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.audit_log_bucket))
    error_message = "audit_log_bucket must be null or an S3 bucket name."
  }
}

variable "audit_log_retention_days" {
  description = "Days to keep the audit logs: the expiry of the audit bucket's objects, and the retention of the Serverless CloudWatch log groups (hence one of the values CloudWatch Logs accepts)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.audit_log_retention_days)
    error_message = "audit_log_retention_days must be a retention CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
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

# Serverless: capacity and its daily ceiling.

variable "serverless_base_capacity" {
  description = "RPUs a Serverless workgroup starts each query with (1 RPU = 16 GB of memory): 4, 8 to 512 in steps of 8, or 512 to 1024 in steps of 32 where the region offers it. Billed per RPU-second while queries run."
  type        = number
  default     = 8

  validation {
    condition = (
      var.serverless_base_capacity == 4
      || (var.serverless_base_capacity >= 8 && var.serverless_base_capacity <= 512 && var.serverless_base_capacity % 8 == 0)
      || (var.serverless_base_capacity > 512 && var.serverless_base_capacity <= 1024 && var.serverless_base_capacity % 32 == 0)
    )
    error_message = "serverless_base_capacity must be 4, 8 to 512 in steps of 8, or 512 to 1024 in steps of 32."
  }
}

variable "serverless_max_capacity" {
  description = "RPUs a Serverless workgroup may scale up to under load, at least serverless_base_capacity: it caps how fast the bill can grow."
  type        = number
  default     = 32

  validation {
    condition     = var.serverless_max_capacity >= 8 && var.serverless_max_capacity <= 5632 && var.serverless_max_capacity % 8 == 0
    error_message = "serverless_max_capacity must be 8 to 5632 in steps of 8 (and at least serverless_base_capacity)."
  }
}

variable "serverless_max_rpu_hours_per_day" {
  description = "Usage limit of a Serverless workgroup, in RPU-hours a day (24 = three hours of queries at 8 RPUs); what happens beyond it is serverless_usage_limit_breach_action. null removes the limit."
  type        = number
  default     = 24

  validation {
    condition     = var.serverless_max_rpu_hours_per_day == null || try(var.serverless_max_rpu_hours_per_day >= 1 && floor(var.serverless_max_rpu_hours_per_day) == var.serverless_max_rpu_hours_per_day, false)
    error_message = "serverless_max_rpu_hours_per_day must be null or a whole number of RPU-hours, at least 1."
  }
}

variable "serverless_usage_limit_breach_action" {
  description = "What a Serverless workgroup does past serverless_max_rpu_hours_per_day: \"deactivate\" turns user queries off until the next day, \"emit-metric\" only publishes a CloudWatch metric, \"log\" only writes to a system table."
  type        = string
  default     = "deactivate"

  validation {
    condition     = contains(["log", "emit-metric", "deactivate"], var.serverless_usage_limit_breach_action)
    error_message = "serverless_usage_limit_breach_action must be \"log\", \"emit-metric\" or \"deactivate\"."
  }
}

# Provisioned: a pause and resume schedule, and a ceiling on concurrency scaling.

variable "pause_schedule" {
  description = "When to pause the provisioned cluster, which stops its hourly billing (storage is still billed): a cron expression in UTC such as \"cron(0 19 ? * MON-FRI *)\". null schedules no pause."
  type        = string
  default     = null

  validation {
    condition     = var.pause_schedule == null || can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.pause_schedule))
    error_message = "pause_schedule must be null or cron(Minutes Hours Day-of-month Month Day-of-week Year), such as cron(0 19 ? * MON-FRI *)."
  }
}

variable "resume_schedule" {
  description = "When to resume the provisioned cluster: a cron expression in UTC such as \"cron(0 7 ? * MON-FRI *)\". null schedules no resume (resume it in the console or with the AWS CLI)."
  type        = string
  default     = null

  validation {
    condition     = var.resume_schedule == null || can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.resume_schedule))
    error_message = "resume_schedule must be null or cron(Minutes Hours Day-of-month Month Day-of-week Year), such as cron(0 7 ? * MON-FRI *)."
  }
}

variable "concurrency_scaling_max_minutes_per_day" {
  description = "Usage limit on the provisioned cluster's concurrency scaling, in minutes a day; what happens beyond it is concurrency_scaling_breach_action. null sets none: concurrency scaling stays off unless a WLM queue turns it on, and each day of running earns an hour of it free."
  type        = number
  default     = null

  validation {
    condition     = var.concurrency_scaling_max_minutes_per_day == null || try(var.concurrency_scaling_max_minutes_per_day >= 1 && floor(var.concurrency_scaling_max_minutes_per_day) == var.concurrency_scaling_max_minutes_per_day, false)
    error_message = "concurrency_scaling_max_minutes_per_day must be null or a whole number of minutes, at least 1."
  }
}

variable "concurrency_scaling_breach_action" {
  description = "What the provisioned cluster does past concurrency_scaling_max_minutes_per_day: \"disable\" stops concurrency scaling until the next day, \"emit-metric\" only publishes a CloudWatch metric, \"log\" only writes to a system table."
  type        = string
  default     = "disable"

  validation {
    condition     = contains(["log", "emit-metric", "disable"], var.concurrency_scaling_breach_action)
    error_message = "concurrency_scaling_breach_action must be \"log\", \"emit-metric\" or \"disable\"."
  }
}

# Both: a monthly budget that tells someone.

variable "monthly_budget_usd" {
  description = "Monthly AWS Budgets limit, in USD, on the account's Amazon Redshift spend; a notification goes out at 80% and at 100% of it. The budget exists only once budget_notification_emails or budget_notification_sns_topic_arn names a recipient."
  type        = number
  default     = 100

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be more than 0."
  }
}

variable "budget_notification_emails" {
  description = "E-mail addresses that the monthly budget notifies at 80% and 100% of monthly_budget_usd. Empty, and with no budget_notification_sns_topic_arn, no budget is created."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.budget_notification_emails) <= 10 && alltrue([for address in var.budget_notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "budget_notification_emails must hold at most 10 e-mail addresses."
  }
}

variable "budget_notification_sns_topic_arn" {
  description = "An SNS topic that the monthly budget notifies at 80% and 100% of monthly_budget_usd (AWS Budgets takes one per notification); its policy must let budgets.amazonaws.com publish. null notifies no topic."
  type        = string
  default     = null

  validation {
    condition     = var.budget_notification_sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.budget_notification_sns_topic_arn))
    error_message = "budget_notification_sns_topic_arn must be null or an SNS topic ARN."
  }
}
