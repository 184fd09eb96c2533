# Nothing lost silently: failed deliveries, a non-empty dead-letter queue, and silence in the
# events log group (a dead log pipeline must not look like a quiet cluster) all alarm, to the
# module's topic and var.alarm_actions.

# Failed deliveries, and the dead-letter queue's depth: alarms on a metric above zero, created by
# the lambda-function submodule (module.notifier).
locals {
  above_zero_alarms = {
    delivery-failures = {
      description = "Notifications failed every retry and went to the dead-letter queue ${module.notifier.dead_letter_queue.name}."
      namespace   = "eventkeeper"
      metric      = "DeliveryFailures"
      dimensions  = { Function = var.name }
      statistic   = "Sum"
      period      = 300
    }
  }
}

# Every record has a schemaVersion: counting them counts records, whatever their type.
resource "aws_cloudwatch_log_metric_filter" "records" {
  name           = "${var.name}-records"
  log_group_name = var.events_log_group_name
  pattern        = "{ $.${var.field_prefix}schemaVersion >= 1 }"

  metric_transformation {
    name      = "RecordsIngested"
    namespace = "eventkeeper"
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "silence" {
  alarm_name          = "${var.name}-silence"
  alarm_description   = "No eventkeeper record reached ${var.events_log_group_name} for ${var.silence_periods * var.silence_period_seconds} s: the emitter, the shipper or the log pipeline may be down."
  namespace           = "eventkeeper"
  metric_name         = aws_cloudwatch_log_metric_filter.records.metric_transformation[0].name
  statistic           = "Sum"
  period              = var.silence_period_seconds
  evaluation_periods  = var.silence_periods
  datapoints_to_alarm = var.silence_periods
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  tags                = var.tags
}
