# Logs Insights saved queries over the records, whichever shipper carried them: every query is a
# template in queries/ whose `${p}` is the field prefix (log_processed., data. or nothing). The
# text of every query and dashboard widget lives in queries/ and dashboard/ only, where
# scripts/terraform checks each one against schema v1 for every prefix.

locals {
  saved_queries = {
    for file in fileset("${path.module}/queries", "*.tftpl") :
    trimsuffix(file, ".tftpl") => templatefile("${path.module}/queries/${file}", { p = var.field_prefix })
  }
}

resource "aws_cloudwatch_query_definition" "events" {
  for_each = var.create_saved_queries ? local.saved_queries : {}

  name            = "eventkeeper/${var.cluster_name}/${each.key}"
  log_group_names = local.events_log_group_names
  query_string    = each.value
}
