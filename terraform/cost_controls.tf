# What keeps the bill in view: a pause and resume schedule and a concurrency scaling ceiling
# for the provisioned cluster (Serverless has its RPU-hour ceiling in serverless.tf), and a
# monthly budget for either, which tells someone before the month ends.

locals {
  scheduled_actions = local.provisioned ? {
    for action, schedule in { pause = var.pause_schedule, resume = var.resume_schedule } : action => schedule
    if schedule != null
  } : {}

  budget_recipients = length(var.budget_notification_emails) > 0 || var.budget_notification_sns_topic_arn != null
}

# The role the Redshift scheduler assumes, which may pause and resume this cluster only.
resource "aws_iam_role" "scheduler" {
  count = length(local.scheduled_actions) > 0 ? 1 : 0

  name        = "${local.short_name}-redshift-scheduler"
  description = "Assumed by the Redshift scheduler to pause and resume the ${var.cluster_identifier} cluster on schedule"

  # As AWS documents it, without the aws:SourceAccount condition of the cluster's role: the
  # scheduler is not documented to send it, and a refused AssumeRole would leave the cluster
  # running, and billing, without a word.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.redshift.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  count = length(local.scheduled_actions) > 0 ? 1 : 0

  name = "pause-and-resume-this-cluster"
  role = aws_iam_role.scheduler[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PauseAndResumeThisCluster"
      Effect   = "Allow"
      Action   = ["redshift:PauseCluster", "redshift:ResumeCluster"]
      Resource = local.cluster_arn
    }]
  })
}

resource "aws_redshift_scheduled_action" "this" {
  for_each = local.scheduled_actions

  name        = "${local.short_name}-${each.key}"
  description = "${title(each.key)} the ${var.cluster_identifier} cluster on schedule (UTC)"
  schedule    = each.value
  iam_role    = aws_iam_role.scheduler[0].arn

  target_action {
    dynamic "pause_cluster" {
      for_each = each.key == "pause" ? [1] : []

      content {
        cluster_identifier = aws_redshift_cluster.this[0].cluster_identifier
      }
    }

    dynamic "resume_cluster" {
      for_each = each.key == "resume" ? [1] : []

      content {
        cluster_identifier = aws_redshift_cluster.this[0].cluster_identifier
      }
    }
  }

  # The role's policy must be in place before the first run.
  depends_on = [aws_iam_role_policy.scheduler]
}

resource "aws_redshift_usage_limit" "concurrency_scaling" {
  count = local.provisioned && var.concurrency_scaling_max_minutes_per_day != null ? 1 : 0

  cluster_identifier = aws_redshift_cluster.this[0].cluster_identifier
  feature_type       = "concurrency-scaling"
  limit_type         = "time"
  period             = "daily"
  amount             = var.concurrency_scaling_max_minutes_per_day
  breach_action      = var.concurrency_scaling_breach_action
}

# On the account's Amazon Redshift spend, not on this stack's tags: a tag filter reads $0 until
# the tag is activated for cost allocation in the billing console, and a budget that reads $0
# would never tell anyone anything.
resource "aws_budgets_budget" "monthly" {
  count = local.budget_recipients ? 1 : 0

  name         = "${var.cluster_identifier}-redshift-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  cost_filter {
    name   = "Service"
    values = ["Amazon Redshift"]
  }

  dynamic "notification" {
    for_each = toset([80, 100])

    content {
      comparison_operator        = "GREATER_THAN"
      notification_type          = "ACTUAL"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      subscriber_email_addresses = var.budget_notification_emails
      subscriber_sns_topic_arns  = var.budget_notification_sns_topic_arn == null ? [] : [var.budget_notification_sns_topic_arn]
    }
  }
}
