# The notifier: a CloudWatch Logs subscription on the events log group invokes the function
# (notify/; the released zip, or `make lambda-zip` from a clone) with batches of records; it
# keeps each group's state in DynamoDB, sends to the destinations and dead-letters what fails.
#
# A log group accepts at most two subscription filters. When the events log group already has
# two, see docs/notifications.md ("Two subscription filters per log group").

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.id
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${var.events_log_group_name}"

  # The IAM actions the function's code calls, by resource; generated from notify/src/iam.rs.
  iam_actions = jsondecode(file("${path.module}/iam-actions.json"))

  topic_arn = var.create_sns_topic ? aws_sns_topic.notifications[0].arn : null

  # The function's destinations (notify/src/destination.rs): secrets by ARN only.
  destinations = [
    for d in var.destinations : { for k, v in {
      kind     = d.kind
      name     = d.name
      secret   = d.secret_arn
      topicArn = d.kind == "sns" ? coalesce(d.topic_arn, local.topic_arn) : null
      busName  = d.bus_name
    } : k => v if v != null }
  ]
  rules = var.rules == null ? null : [
    for r in var.rules : { for k, v in r : k => v if v != null }
  ]

  secrets_manager_arns = [for d in var.destinations : d.secret_arn if d.secret_arn != null && can(regex(":secretsmanager:", d.secret_arn))]
  ssm_parameter_arns   = [for d in var.destinations : d.secret_arn if d.secret_arn != null && can(regex(":ssm:", d.secret_arn))]
  sns_topic_arns       = [for d in local.destinations : d.topicArn if d.kind == "sns"]
  event_bus_arns = [for d in var.destinations : (
    startswith(d.bus_name, "arn:") ? d.bus_name : "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${d.bus_name}"
  ) if d.kind == "eventbridge"]

  # Warning records, and the default rules' reasons that are reported as Normal, in the
  # configured layout: the function is not invoked for every log line.
  p = var.field_prefix
  subscription_pattern = "{ ${join(" || ", concat(
    ["$.${local.p}type = \"Warning\""],
    [for r in var.prefilter_reasons : "$.${local.p}reason = \"${r}\""],
  ))} }"

  lambda_environment = {
    for key, value in {
      EVENTKEEPER_NOTIFY_TABLE                = aws_dynamodb_table.state.name
      EVENTKEEPER_NOTIFY_DESTINATIONS         = jsonencode(local.destinations)
      EVENTKEEPER_NOTIFY_RULES                = local.rules == null ? null : jsonencode(local.rules)
      EVENTKEEPER_NOTIFY_THRESHOLDS           = join(",", [for t in var.thresholds : tostring(t)])
      EVENTKEEPER_NOTIFY_QUIET_PERIOD_SECONDS = tostring(var.quiet_period_seconds)
      EVENTKEEPER_NOTIFY_BURST_LIMIT          = tostring(var.burst_limit)
      EVENTKEEPER_NOTIFY_LATE_AFTER_SECONDS   = tostring(var.late_after_seconds)
      EVENTKEEPER_NOTIFY_CLAIM_LEASE_SECONDS  = tostring(var.lambda_timeout_seconds + 60)
      EVENTKEEPER_NOTIFY_DLQ_URL              = module.notifier.dead_letter_queue.url
      EVENTKEEPER_LOG_FORMAT                  = "json"
    } : key => value if value != null
  }

  alarm_actions = concat(var.create_sns_topic ? [local.topic_arn] : [], var.alarm_actions)
}

# The function, its log group, role and dead-letter queue: the lambda-function submodule the
# catch-up's module uses too.
module "notifier" {
  source = "../eventkeeper/modules/lambda-function"

  function_name = var.name
  description   = "eventkeeper notifier: Kubernetes Events from ${var.events_log_group_name} to people"
  code_name     = "notifier"
  role_name     = var.name
  policy_name   = var.name
  policy_json   = data.aws_iam_policy_document.notify.json

  lambda_zip_path          = var.lambda_zip_path
  lambda_s3_bucket         = var.lambda_s3_bucket
  lambda_s3_key            = var.lambda_s3_key
  lambda_s3_object_version = var.lambda_s3_object_version
  architecture             = var.architecture

  memory_mb            = var.lambda_memory_mb
  timeout_seconds      = var.lambda_timeout_seconds
  reserved_concurrency = var.lambda_reserved_concurrency
  environment          = local.lambda_environment
  tracing_mode         = "Active"

  # A batch whose invocation fails (state store down, a claim held elsewhere, a dead-letter
  # queue that refused) is retried twice; then the invocation record, with the payload, goes to
  # the DLQ, which also holds the deliveries that failed every retry.
  async_retry_attempts        = 2
  async_max_event_age_seconds = 21600
  on_failure_to_dead_letters  = true

  above_zero_alarms = local.above_zero_alarms
  dead_letters      = "Failed deliveries and invocations, with their payloads,"
  alarm_actions     = local.alarm_actions

  log_retention_days = var.log_retention_days
  kms_key_arn        = var.kms_key_arn
  tags               = var.tags
}

# Addresses before the submodule: `terraform apply` moves them, nothing is recreated.
moved {
  from = aws_cloudwatch_log_group.lambda
  to   = module.notifier.aws_cloudwatch_log_group.this
}

moved {
  from = aws_lambda_function.notify
  to   = module.notifier.aws_lambda_function.this
}

moved {
  from = aws_lambda_function_event_invoke_config.notify
  to   = module.notifier.aws_lambda_function_event_invoke_config.this
}

moved {
  from = aws_sqs_queue.dead_letters
  to   = module.notifier.aws_sqs_queue.dead_letters
}

moved {
  from = aws_iam_role.notify
  to   = module.notifier.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.notify
  to   = module.notifier.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_metric_alarm.delivery_failures
  to   = module.notifier.aws_cloudwatch_metric_alarm.above_zero["delivery-failures"]
}

moved {
  from = aws_cloudwatch_metric_alarm.dead_letters
  to   = module.notifier.aws_cloudwatch_metric_alarm.above_zero["dead-letters"]
}

resource "aws_lambda_permission" "logs" {
  statement_id   = "CloudWatchLogsSubscription"
  action         = "lambda:InvokeFunction"
  function_name  = module.notifier.function_name
  principal      = "logs.amazonaws.com"
  source_arn     = "${local.log_group_arn}:*"
  source_account = local.account_id
}

resource "aws_cloudwatch_log_subscription_filter" "notify" {
  name            = var.name
  log_group_name  = var.events_log_group_name
  filter_pattern  = local.subscription_pattern
  destination_arn = module.notifier.function_arn
  depends_on      = [aws_lambda_permission.logs]
}
