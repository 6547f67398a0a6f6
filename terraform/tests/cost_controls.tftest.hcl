# The cost controls: a pause and resume schedule and a concurrency scaling limit for the
# provisioned cluster, and a monthly budget for either deployment. Offline, with a mock provider.
mock_provider "aws" {
  mock_data "aws_vpc" {
    defaults = { id = "vpc-0a1b2c3d4e5f60718" }
  }
  mock_data "aws_subnets" {
    defaults = { ids = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"] }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/sparkify-redshift-scheduler" }
  }
}

variables {
  allowed_cidr_blocks = ["203.0.113.10/32"]
}

run "pauses_and_resumes_on_schedule" {
  command = apply

  variables {
    pause_schedule  = "cron(0 19 ? * MON-FRI *)"
    resume_schedule = "cron(0 7 ? * MON-FRI *)"
  }

  assert {
    condition = {
      for action, scheduled in aws_redshift_scheduled_action.this : action => [
        scheduled.schedule,
        [for target in scheduled.target_action : [for pause in target.pause_cluster : pause.cluster_identifier]],
        [for target in scheduled.target_action : [for resume in target.resume_cluster : resume.cluster_identifier]],
        scheduled.iam_role,
      ]
      } == {
      pause  = ["cron(0 19 ? * MON-FRI *)", [["sparkify"]], [[]], aws_iam_role.scheduler[0].arn]
      resume = ["cron(0 7 ? * MON-FRI *)", [[]], [["sparkify"]], aws_iam_role.scheduler[0].arn]
    }
    error_message = "The cluster must be paused and resumed on the given schedules, by the scheduler's role."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role.scheduler[0].assume_role_policy).Statement : [statement.Principal, statement.Action]
    ] == [[{ Service = "scheduler.redshift.amazonaws.com" }, "sts:AssumeRole"]]
    error_message = "Only the Redshift scheduler may assume the scheduler's role."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.scheduler[0].policy).Statement : [statement.Effect, statement.Action, statement.Resource]
    ] == [["Allow", ["redshift:PauseCluster", "redshift:ResumeCluster"], "arn:aws:redshift:us-west-2:123456789012:cluster:sparkify"]]
    error_message = "The scheduler's role may pause and resume this cluster only."
  }

  assert {
    condition     = output.deployment_shape == "provisioned cluster: 1 x ra3.large (single-node); paused cron(0 19 ? * MON-FRI *); resumed cron(0 7 ? * MON-FRI *); no budget"
    error_message = "deployment_shape must show the schedule: ${output.deployment_shape}"
  }
}

run "pauses_only" {
  command = plan

  variables {
    pause_schedule = "cron(0 19 * * ? *)"
  }

  assert {
    condition     = toset(keys(aws_redshift_scheduled_action.this)) == toset(["pause"]) && length(aws_iam_role.scheduler) == 1
    error_message = "A pause schedule alone must schedule the pause only."
  }
}

run "limits_concurrency_scaling" {
  command = plan

  variables {
    concurrency_scaling_max_minutes_per_day = 60
  }

  assert {
    condition = [
      for limit in aws_redshift_usage_limit.concurrency_scaling :
      [limit.cluster_identifier, limit.feature_type, limit.limit_type, limit.period, limit.amount, limit.breach_action]
    ] == [["sparkify", "concurrency-scaling", "time", "daily", 60, "disable"]]
    error_message = "Concurrency scaling must stop past its daily minutes by default."
  }

  assert {
    condition     = output.deployment_shape == "provisioned cluster: 1 x ra3.large (single-node); concurrency scaling at most 60 min a day (disable); no budget"
    error_message = "deployment_shape must show the concurrency scaling limit: ${output.deployment_shape}"
  }
}

run "budget_notifies_by_email" {
  command = plan

  variables {
    number_of_nodes            = 2
    budget_notification_emails = ["billing@example.com"]
  }

  assert {
    condition = alltrue([
      aws_budgets_budget.monthly[0].budget_type == "COST",
      aws_budgets_budget.monthly[0].time_unit == "MONTHLY",
      aws_budgets_budget.monthly[0].limit_amount == "100",
      aws_budgets_budget.monthly[0].limit_unit == "USD",
      [for filter in aws_budgets_budget.monthly[0].cost_filter : "${filter.name}=${join(",", filter.values)}"] == ["Service=Amazon Redshift"],
    ])
    error_message = "The budget must watch the monthly Amazon Redshift cost against monthly_budget_usd."
  }

  assert {
    condition = toset([
      for notification in aws_budgets_budget.monthly[0].notification : [
        notification.threshold, notification.threshold_type, notification.notification_type, notification.comparison_operator,
        notification.subscriber_email_addresses, try(length(notification.subscriber_sns_topic_arns), 0),
      ]
      ]) == toset([
      for threshold in [80, 100] : [threshold, "PERCENTAGE", "ACTUAL", "GREATER_THAN", toset(["billing@example.com"]), 0]
    ])
    error_message = "The budget must e-mail at 80% and at 100% of the actual spend."
  }

  assert {
    condition     = output.deployment_shape == "provisioned cluster: 2 x ra3.large (multi-node); budget 100 USD a month, notified at 80% and 100%"
    error_message = "deployment_shape must show the budget: ${output.deployment_shape}"
  }
}

run "budget_notifies_an_sns_topic_for_serverless_too" {
  command = plan

  variables {
    deployment                        = "serverless"
    monthly_budget_usd                = 40
    budget_notification_sns_topic_arn = "arn:aws:sns:us-west-2:123456789012:billing-alerts"
  }

  assert {
    condition = aws_budgets_budget.monthly[0].limit_amount == "40" && toset([
      for notification in aws_budgets_budget.monthly[0].notification : [notification.threshold, notification.subscriber_sns_topic_arns]
      ]) == toset([
      for threshold in [80, 100] : [threshold, toset(["arn:aws:sns:us-west-2:123456789012:billing-alerts"])]
    ])
    error_message = "The budget must notify the SNS topic at 80% and 100%, for a Serverless deployment as well."
  }
}

run "rejects_a_schedule_that_is_not_cron" {
  command = plan

  variables {
    pause_schedule = "0 19 * * MON-FRI"
  }

  expect_failures = [var.pause_schedule]
}

run "rejects_a_resume_schedule_that_is_not_cron" {
  command = plan

  variables {
    resume_schedule = "rate(1 day)"
  }

  expect_failures = [var.resume_schedule]
}

run "rejects_a_concurrency_limit_of_nothing" {
  command = plan

  variables {
    concurrency_scaling_max_minutes_per_day = 0
  }

  expect_failures = [var.concurrency_scaling_max_minutes_per_day]
}

run "rejects_a_serverless_breach_action_for_concurrency_scaling" {
  command = plan

  variables {
    concurrency_scaling_breach_action = "deactivate"
  }

  expect_failures = [var.concurrency_scaling_breach_action]
}

run "rejects_a_budget_of_nothing" {
  command = plan

  variables {
    monthly_budget_usd = 0
  }

  expect_failures = [var.monthly_budget_usd]
}

run "rejects_a_malformed_email" {
  command = plan

  variables {
    budget_notification_emails = ["billing at example.com"]
  }

  expect_failures = [var.budget_notification_emails]
}

run "rejects_a_malformed_sns_topic" {
  command = plan

  variables {
    budget_notification_sns_topic_arn = "billing-alerts"
  }

  expect_failures = [var.budget_notification_sns_topic_arn]
}
