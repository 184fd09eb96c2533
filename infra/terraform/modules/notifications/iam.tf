# Least privilege. The actions the function's code calls come from iam-actions.json, generated
# from notify/src/iam.rs (`make notify-iam-actions`), each group granted on its resources only; the
# lambda-function submodule adds the function's own logs.

locals {
  # Each group of iam-actions.json on its resources, by statement id. A group with no resources
  # (no SNS destination, say) is not granted.
  code_grants = {
    StateTable    = { group = "state_table", resources = [aws_dynamodb_table.state.arn] }
    DeadLetters   = { group = "dead_letter_queue", resources = [module.notifier.dead_letter_queue.arn] }
    SnsTopics     = { group = "sns_topics", resources = local.sns_topic_arns }
    EventBuses    = { group = "event_buses", resources = local.event_bus_arns }
    Secrets       = { group = "secrets_manager_secrets", resources = local.secrets_manager_arns }
    SecureStrings = { group = "ssm_parameters", resources = local.ssm_parameter_arns }
  }
}

data "aws_iam_policy_document" "notify" {
  dynamic "statement" {
    for_each = { for sid, grant in local.code_grants : sid => grant if length(grant.resources) > 0 }
    content {
      sid       = statement.key
      actions   = local.iam_actions[statement.value.group]
      resources = statement.value.resources
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
