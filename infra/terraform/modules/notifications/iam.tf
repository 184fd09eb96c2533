# Least privilege. The actions the function's code calls come from iam-actions.json, generated
# from notify/src/iam.rs (`make notify-iam-actions`), each group granted on its resources only; the
# lambda-function submodule adds the function's own logs.

data "aws_iam_policy_document" "notify" {
  statement {
    sid       = "StateTable"
    actions   = local.iam_actions.state_table
    resources = [aws_dynamodb_table.state.arn]
  }

  statement {
    sid       = "DeadLetters"
    actions   = local.iam_actions.dead_letter_queue
    resources = [module.notifier.dead_letter_queue.arn]
  }

  dynamic "statement" {
    for_each = length(local.sns_topic_arns) > 0 ? [1] : []
    content {
      sid       = "SnsTopics"
      actions   = local.iam_actions.sns_topics
      resources = local.sns_topic_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.event_bus_arns) > 0 ? [1] : []
    content {
      sid       = "EventBuses"
      actions   = local.iam_actions.event_buses
      resources = local.event_bus_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.secrets_manager_arns) > 0 ? [1] : []
    content {
      sid       = "Secrets"
      actions   = local.iam_actions.secrets_manager_secrets
      resources = local.secrets_manager_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.ssm_parameter_arns) > 0 ? [1] : []
    content {
      sid       = "SecureStrings"
      actions   = local.iam_actions.ssm_parameters
      resources = local.ssm_parameter_arns
    }
  }

  # The customer managed key, when there is one: the table, queue, topic and secrets use it.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "Kms"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}
