output "lambda_function_name" {
  description = "Name of the catch-up function (for `aws lambda invoke`)."
  value       = module.catchup.function_name
}

output "lambda_function_arn" {
  description = "ARN of the catch-up function."
  value       = module.catchup.function_arn
}

output "lambda_role_arn" {
  description = "IAM role of the function: the principal of the EKS access entry."
  value       = module.catchup.role_arn
}

output "lambda_log_group_name" {
  description = "The function's own log group (run logs, EMF metrics)."
  value       = module.catchup.log_group_name
}

output "kubernetes_group" {
  description = "Kubernetes group of the access entry: set the chart's `catchUpAccess.group` to it."
  value       = var.kubernetes_group
}

output "bucket_name" {
  description = "Archive bucket."
  value       = local.bucket_name
}

output "archive_uri" {
  description = "Where the archive objects are: s3://BUCKET/PREFIX/cluster=NAME/."
  value       = "s3://${local.bucket_name}/${var.archive_prefix}/cluster=${var.cluster_name}/"
}

output "schedule_expression" {
  description = "The schedule's rate expression."
  value       = local.schedule_expression
}

output "dead_letter_queue_url" {
  description = "Dead-letter queue of undeliverable and failed runs."
  value       = module.catchup.dead_letter_queue.url
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify (null when none)."
  value       = local.alarm_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard name (null when not created)."
  value       = one(aws_cloudwatch_dashboard.events[*].dashboard_name)
}

output "saved_query_names" {
  description = "Names of the Logs Insights saved queries."
  value       = [for q in aws_cloudwatch_query_definition.events : q.name]
}

output "athena_database" {
  description = "Glue database of the archive table (null when not created)."
  value       = one(aws_glue_catalog_database.events[*].name)
}

output "athena_table" {
  description = "Glue table over the archive (null when not created)."
  value       = one(aws_glue_catalog_table.events[*].name)
}

output "athena_workgroup" {
  description = "Athena workgroup whose results go to the archive bucket (null when not created)."
  value       = one(aws_athena_workgroup.events[*].name)
}
