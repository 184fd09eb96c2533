# Alarms on "anything above zero in one period": the dead-letter queue's depth, and the caller's
# own (function errors, a possible gap, failed deliveries, ...), all to var.alarm_actions.

locals {
  above_zero_alarms = merge(var.above_zero_alarms, {
    dead-letters = {
      description = "${var.dead_letters} wait in the dead-letter queue ${aws_sqs_queue.dead_letters.name}."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.dead_letters.name }
      statistic   = "Maximum"
      period      = 300
    }
  })
}

resource "aws_cloudwatch_metric_alarm" "above_zero" {
  for_each            = var.create_alarms ? local.above_zero_alarms : {}
  alarm_name          = "${var.function_name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_ok_actions
  tags                = var.tags
}
