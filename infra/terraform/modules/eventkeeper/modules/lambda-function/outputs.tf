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
  description = "The dead-letter queue: `arn`, `url` and `name`."
  value = {
    arn  = aws_sqs_queue.dead_letters.arn
    url  = aws_sqs_queue.dead_letters.url
    name = aws_sqs_queue.dead_letters.name
  }
}
