output "function_name" {
  description = "The function's name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The function's ARN."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "The function's IAM role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "The role's name, for further policy attachments."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "The function's own log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "dead_letter_queue" {
  description = "The dead-letter queue (its `aws_sqs_queue`: `arn`, `url`, `name`, ...)."
  value       = aws_sqs_queue.dead_letters
}
