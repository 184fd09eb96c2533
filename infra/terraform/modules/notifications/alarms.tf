# Nothing lost silently: failed deliveries, a non-empty dead-letter queue, and silence in the
# events log group (a dead log pipeline must not look like a quiet cluster) all alarm, to the
# module's topic and var.alarm_actions.

resource "aws_cloudwatch_metric_alarm" "delivery_failures" {
  alarm_name          = "${var.name}-delivery-failures"
  alarm_description   = "Notifications failed every retry and went to the dead-letter queue ${module.notifier.dead_letter_queue.name}."
  namespace           = "eventkeeper"
  metric_name         = "DeliveryFailures"
  dimensions          = { Function = var.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "Messages wait in ${module.notifier.dead_letter_queue.name}: failed deliveries or invocations, with their payloads."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = module.notifier.dead_letter_queue.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = var.tags
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
