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
      EVENTKEEPER_NOTIFY_DLQ_URL              = aws_sqs_queue.dead_letters.url
      EVENTKEEPER_LOG_FORMAT                  = "json"
    } : key => value if value != null
  }

  alarm_actions = concat(var.create_sns_topic ? [local.topic_arn] : [], var.alarm_actions)
}

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "notify" {
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step the project's release build does not have; the zip's hash is tracked by source_code_hash.
  #checkov:skip=CKV_AWS_117:The notifier calls only AWS APIs and HTTPS webhooks; it needs no VPC.
  function_name = var.name
  description   = "eventkeeper notifier: Kubernetes Events from ${var.events_log_group_name} to people"
  role          = aws_iam_role.notify.arn

  filename          = var.lambda_zip_path
  source_code_hash  = var.lambda_zip_path == null ? null : filebase64sha256(var.lambda_zip_path)
  s3_bucket         = var.lambda_s3_bucket
  s3_key            = var.lambda_s3_key
  s3_object_version = var.lambda_s3_object_version
  runtime           = "provided.al2023"
  handler           = "bootstrap"
  architectures     = [var.architecture]

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.lambda_environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda.name
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.notify]

  lifecycle {
    # Checked at plan time, before anything is created.
    precondition {
      condition     = (var.lambda_zip_path != null) != (var.lambda_s3_bucket != null && var.lambda_s3_key != null)
      error_message = "Give the notifier's code in exactly one way: lambda_zip_path (the released zip: scripts/fetch-release.sh VERSION downloads and verifies it), or lambda_s3_bucket and lambda_s3_key (your mirror of it)."
    }
  }
}

# A batch whose invocation fails (state store down, a claim held elsewhere, a dead-letter queue
# that refused) is retried twice; then the invocation record, with the payload, goes to the DLQ.
resource "aws_lambda_function_event_invoke_config" "notify" {
  function_name                = aws_lambda_function.notify.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letters.arn
    }
  }
}

resource "aws_lambda_permission" "logs" {
  statement_id   = "CloudWatchLogsSubscription"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.notify.function_name
  principal      = "logs.amazonaws.com"
  source_arn     = "${local.log_group_arn}:*"
  source_account = local.account_id
}

resource "aws_cloudwatch_log_subscription_filter" "notify" {
  name            = var.name
  log_group_name  = var.events_log_group_name
  filter_pattern  = local.subscription_pattern
  destination_arn = aws_lambda_function.notify.arn
  depends_on      = [aws_lambda_permission.logs]
}
