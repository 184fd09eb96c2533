# The events dashboard (Normal/Warning histogram, totals, warnings by namespace, latest events),
# and the catch-up's own health below it. Log widget queries are templates in dashboard/.

locals {
  dashboard_queries = {
    for file in fileset("${path.module}/dashboard", "*.tftpl") :
    trimsuffix(file, ".tftpl") => templatefile("${path.module}/dashboard/${file}", { p = var.field_prefix })
  }

  # `SOURCE 'group' | ...`: the log groups a dashboard log widget reads.
  dashboard_source = join(" | ", [for group in local.events_log_group_names : "SOURCE '${group}'"])

  # [query, title, view, x, y, width, height]
  dashboard_log_widgets = [
    ["events-histogram", "Events: Normal and Warning", "timeSeries", 0, 0, 16, 6],
    ["totals", "Totals", "table", 16, 0, 8, 6],
    ["warnings-by-namespace", "Warnings by namespace", "bar", 0, 6, 12, 6],
    ["latest-events", "Latest events", "table", 12, 6, 12, 6],
  ]

  emf_dimensions = ["Cluster", var.cluster_name]

  dashboard_body = {
    widgets = concat(
      [
        for w in local.dashboard_log_widgets : {
          type   = "log"
          x      = w[3]
          y      = w[4]
          width  = w[5]
          height = w[6]
          properties = {
            title   = w[1]
            region  = local.region
            view    = w[2]
            stacked = false
            query   = "${local.dashboard_source} | ${local.dashboard_queries[w[0]]}"
          }
        }
      ],
      [
        {
          type = "metric", x = 0, y = 12, width = 8, height = 6
          properties = {
            title  = "Catch-up: events listed and archived"
            region = local.region
            stat   = "Sum"
            period = var.schedule_interval_minutes * 60
            metrics = [
              concat(["eventkeeper", "EventsListed"], local.emf_dimensions),
              concat(["eventkeeper", "EventsArchived"], local.emf_dimensions),
            ]
          }
        },
        {
          type = "metric", x = 8, y = 12, width = 8, height = 6
          properties = {
            title  = "Catch-up: possible gap (seconds) and errors"
            region = local.region
            stat   = "Maximum"
            period = var.schedule_interval_minutes * 60
            metrics = [
              concat(["eventkeeper", "PossibleGapSeconds"], local.emf_dimensions),
              concat(["eventkeeper", "Errors"], local.emf_dimensions, [{ stat = "Sum" }]),
              ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.catchup.function_name, { stat = "Sum" }],
              ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dead_letters.name],
            ]
          }
        },
        {
          type = "metric", x = 16, y = 12, width = 8, height = 6
          properties = {
            title  = "Catch-up: run duration (ms) and archive bytes"
            region = local.region
            stat   = "Maximum"
            period = var.schedule_interval_minutes * 60
            metrics = [
              concat(["eventkeeper", "DurationMs"], local.emf_dimensions),
              concat(["eventkeeper", "ArchiveBytes"], local.emf_dimensions, [{ stat = "Sum", yAxis = "right" }]),
            ]
          }
        },
        {
          type = "metric", x = 0, y = 18, width = 24, height = 6
          properties = {
            title  = "Catch-up: CloudWatch backfill while the emitter was down"
            region = local.region
            stat   = "Sum"
            period = var.schedule_interval_minutes * 60
            metrics = [
              concat(["eventkeeper", "EventsBackfilled"], local.emf_dimensions),
              concat(["eventkeeper", "BackfillBatches"], local.emf_dimensions),
              concat(["eventkeeper", "RejectedLogEvents"], local.emf_dimensions),
            ]
          }
        },
      ],
    )
  }
}

resource "aws_cloudwatch_dashboard" "events" {
  count          = var.create_dashboard ? 1 : 0
  dashboard_name = "eventkeeper-${var.cluster_name}"
  dashboard_body = jsonencode(local.dashboard_body)
}
