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

  # The catch-up's own health, below the events.
  dashboard_metric_widgets = [
    {
      title = "Catch-up: events listed and archived", stat = "Sum", x = 0, y = 12, width = 8
      metrics = [
        concat(["eventkeeper", "EventsListed"], local.emf_dimensions),
        concat(["eventkeeper", "EventsArchived"], local.emf_dimensions),
      ]
    },
    {
      title = "Catch-up: possible gap (seconds) and errors", stat = "Maximum", x = 8, y = 12, width = 8
      metrics = [
        concat(["eventkeeper", "PossibleGapSeconds"], local.emf_dimensions),
        concat(["eventkeeper", "Errors"], local.emf_dimensions, [{ stat = "Sum" }]),
        ["AWS/Lambda", "Errors", "FunctionName", module.catchup.function_name, { stat = "Sum" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.catchup.dead_letter_queue.name],
      ]
    },
    {
      title = "Catch-up: run duration (ms) and archive bytes", stat = "Maximum", x = 16, y = 12, width = 8
      metrics = [
        concat(["eventkeeper", "DurationMs"], local.emf_dimensions),
        concat(["eventkeeper", "ArchiveBytes"], local.emf_dimensions, [{ stat = "Sum", yAxis = "right" }]),
      ]
    },
    {
      title = "Catch-up: CloudWatch backfill while the emitter was down", stat = "Sum", x = 0, y = 18, width = 24
      metrics = [
        concat(["eventkeeper", "EventsBackfilled"], local.emf_dimensions),
        concat(["eventkeeper", "BackfillBatches"], local.emf_dimensions),
        concat(["eventkeeper", "RejectedLogEvents"], local.emf_dimensions),
      ]
    },
  ]

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
        for w in local.dashboard_metric_widgets : {
          type   = "metric"
          x      = w.x
          y      = w.y
          width  = w.width
          height = 6
          properties = {
            title   = w.title
            region  = local.region
            stat    = w.stat
            period  = local.interval_seconds
            metrics = w.metrics
          }
        }
      ],
    )
  }
}

resource "aws_cloudwatch_dashboard" "events" {
  count          = var.create_dashboard ? 1 : 0
  dashboard_name = "eventkeeper-${var.cluster_name}"
  dashboard_body = jsonencode(local.dashboard_body)
}
