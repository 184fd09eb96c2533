data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = coalesce(var.name, lower(replace("eventkeeper-${var.cluster_name}", "_", "-")))
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `id` is the region's name in AWS provider 5.x and 6.x (6.x deprecates `name`).
  region = data.aws_region.current.id

  cluster_arn = "arn:${local.partition}:eks:${local.region}:${local.account_id}:cluster/${var.cluster_name}"

  # The IAM actions the function's code calls, by resource; generated from lambda/src/iam.rs.
  iam_actions = jsondecode(file("${path.module}/iam-actions.json"))

  backfill = var.backfill_log_group_name != null

  # The function's configuration (lambda/src/config.rs). Optional settings are left out when
  # unset, so the function's own defaults apply.
  lambda_environment = {
    for key, value in {
      EVENTKEEPER_CLUSTER_NAME       = var.cluster_name
      EVENTKEEPER_BUCKET             = local.bucket_name
      EVENTKEEPER_PREFIX             = var.archive_prefix
      EVENTKEEPER_TTL                = "${var.event_ttl_minutes}m"
      EVENTKEEPER_SCHEDULE_INTERVAL  = "${var.schedule_interval_minutes}m"
      EVENTKEEPER_PAGE_SIZE          = tostring(var.page_size)
      EVENTKEEPER_LOG_FORMAT         = var.log_format
      EVENTKEEPER_BACKFILL_LOG_GROUP = var.backfill_log_group_name
      # The shipper's nesting of record fields, without the dot: log_processed, data or "".
      EVENTKEEPER_BACKFILL_ENVELOPE       = local.backfill ? trimsuffix(var.field_prefix, ".") : null
      EVENTKEEPER_BACKFILL_LOG_STREAM     = local.backfill ? var.backfill_log_stream_name : null
      EVENTKEEPER_BACKFILL_LEASE_DURATION = local.backfill ? var.backfill_lease_duration : null
      EVENTKEEPER_LEASE_NAMESPACE         = var.lease_namespace
      EVENTKEEPER_LEASE_NAME              = var.lease_name
    } : key => value if value != null
  }

  events_log_group_names = coalesce(var.events_log_group_names, ["/aws/containerinsights/${var.cluster_name}/application"])

  alarm_topic_arn = var.alarm_sns_topic_arn != null ? var.alarm_sns_topic_arn : (
    var.create_sns_topic ? aws_sns_topic.alarms[0].arn : null
  )
  alarm_actions = local.alarm_topic_arn == null ? [] : [local.alarm_topic_arn]
}
