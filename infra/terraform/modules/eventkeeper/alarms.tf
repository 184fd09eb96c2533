# Alarms: the function fails, a gap may have been lost, no run succeeded for two intervals, dead
# letters. All notify `alarm_sns_topic_arn` or the topic created here, if any. The alarms on a
# metric above zero are created by the lambda-function submodule (module.catchup), with its
# dead-letters alarm.

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:Encrypted with var.kms_key_arn when given. CloudWatch alarms cannot publish to a topic under the AWS managed key alias/aws/sns (its key policy does not admit cloudwatch.amazonaws.com), so there is no safe default key.
  count             = var.create_sns_topic && var.alarm_sns_topic_arn == null ? 1 : 0
  name              = "${local.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

locals {
  interval_seconds = var.schedule_interval_minutes * 60

  # Alarms on "anything above zero in one period": name => what and where (module.catchup).
  above_zero_alarms = merge(
    {
      errors = {
        description = "The eventkeeper catch-up of ${var.cluster_name} failed. Read its log group ${module.catchup.log_group_name}."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        dimensions  = { FunctionName = module.catchup.function_name }
        statistic   = "Sum"
        period      = local.interval_seconds
      }
      possible-gap = {
        description = "Runs of the eventkeeper catch-up of ${var.cluster_name} were further apart than the Event TTL: events may have expired unseen. The run's ERROR log names the window."
        namespace   = "eventkeeper"
        metric      = "PossibleGapSeconds"
        dimensions  = { Cluster = var.cluster_name }
        statistic   = "Maximum"
        period      = local.interval_seconds
      }
    },
    # Backfilled records CloudWatch refused (too old for the group, say): they are only in S3.
    {
      for name, alarm in {
        backfill-rejected = {
          description = "CloudWatch Logs rejected records the eventkeeper catch-up of ${var.cluster_name} backfilled; they are in the S3 archive only (query them with Athena)."
          namespace   = "eventkeeper"
          metric      = "RejectedLogEvents"
          dimensions  = { Cluster = var.cluster_name }
          statistic   = "Sum"
          period      = local.interval_seconds
        }
      } : name => alarm if local.backfill
    },
  )
}

# Every run publishes DurationMs, failed or not, and Errors = 1 when it failed: successful runs
# are their difference. None for two intervals (or no metrics at all) means nothing is archived.
resource "aws_cloudwatch_metric_alarm" "no_archive" {
  count               = var.create_alarms ? 1 : 0
  alarm_name          = "${local.name}-no-archive"
  alarm_description   = "No successful run of the eventkeeper catch-up of ${var.cluster_name} for two schedule intervals: nothing is being archived."
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "good_runs"
    expression  = "FILL(runs, 0) - FILL(failed, 0)"
    label       = "Successful runs"
    return_data = true
  }

  metric_query {
    id = "runs"
    metric {
      namespace   = "eventkeeper"
      metric_name = "DurationMs"
      dimensions  = { Cluster = var.cluster_name }
      stat        = "SampleCount"
      period      = local.interval_seconds
    }
  }

  metric_query {
    id = "failed"
    metric {
      namespace   = "eventkeeper"
      metric_name = "Errors"
      dimensions  = { Cluster = var.cluster_name }
      stat        = "Sum"
      period      = local.interval_seconds
    }
  }
}
