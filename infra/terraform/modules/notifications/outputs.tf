output "function_name" {
  description = "The notifier function."
  value       = module.notifier.function_name
}

output "state_table_name" {
  description = "The DynamoDB table of group state."
  value       = aws_dynamodb_table.state.name
}

output "dead_letter_queue_url" {
  description = "Failed deliveries and invocations, with their payloads."
  value       = module.notifier.dead_letter_queue.url
}

output "topic_arn" {
  description = "The module's SNS topic (null when create_sns_topic is false)."
  value       = local.topic_arn
}

output "subscription_filter_pattern" {
  description = "The pattern that pre-selects records for the function."
  value       = local.subscription_pattern
}
