variable "function_name" {
  description = "The function's name; also names its log group and dead-letter queue."
  type        = string
}

variable "description" {
  description = "The function's description."
  type        = string
}

variable "code_name" {
  description = "What the code is called in the plan-time message about its source (\"catch-up\", \"notifier\")."
  type        = string
}

variable "role_name" {
  description = "The function's IAM role."
  type        = string
}

variable "policy_name" {
  description = "The role's inline policy."
  type        = string
}

variable "policy_json" {
  description = "The grants the function's code needs (an aws_iam_policy_document's json); the module adds the function's own logs."
  type        = string
}

# The code's source: the same contract for every function, checked here once.

variable "lambda_zip_path" {
  description = "Path of the released zip; or lambda_s3_bucket and lambda_s3_key."
  type        = string
  default     = null
}

variable "lambda_s3_bucket" {
  description = "Bucket of an S3 copy of the released zip, with lambda_s3_key."
  type        = string
  default     = null
}

variable "lambda_s3_key" {
  description = "Key of the released zip in lambda_s3_bucket."
  type        = string
  default     = null

  validation {
    condition     = (var.lambda_s3_key == null) == (var.lambda_s3_bucket == null)
    error_message = "lambda_s3_bucket and lambda_s3_key go together."
  }
}

variable "lambda_s3_object_version" {
  description = "Version of the zip's S3 object; null: the latest."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_object_version == null || var.lambda_s3_key != null
    error_message = "lambda_s3_object_version needs lambda_s3_bucket and lambda_s3_key."
  }
}

variable "architecture" {
  description = "arm64 or x86_64, matching the zip."
  type        = string

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

# Resources of one invocation.

variable "memory_mb" {
  description = "Memory (MB)."
  type        = number
}

variable "timeout_seconds" {
  description = "Timeout of one invocation."
  type        = number
}

variable "ephemeral_storage_mb" {
  description = "Ephemeral storage (/tmp, MB); null: Lambda's default."
  type        = number
  default     = null
}

variable "reserved_concurrency" {
  description = "Reserved concurrency (-1: none)."
  type        = number
}

variable "environment" {
  description = "The function's environment."
  type        = map(string)
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active or PassThrough."
  type        = string
}

variable "vpc" {
  description = "Subnets and security groups when the function runs in a VPC; null: no VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

# Failures.

variable "async_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (0 to 2)."
  type        = number
}

variable "async_max_event_age_seconds" {
  description = "How long an asynchronous invocation may wait for a retry."
  type        = number
}

variable "on_failure_to_dead_letters" {
  description = "Also send the invocation record (request and error) of a failed asynchronous invocation to the dead-letter queue."
  type        = bool
  default     = false
}

variable "dead_letter_key_reuse_seconds" {
  description = "How long SQS reuses a data key of kms_key_arn for the dead-letter queue."
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the environment, the log group and the queue; null: AWS managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
}

# Alarms.

variable "create_alarms" {
  description = "Create the alarms."
  type        = bool
  default     = true
}

variable "above_zero_alarms" {
  description = "The caller's alarms on a metric above zero in one period, by name (the alarm is `function_name-NAME`); the module adds `dead-letters`."
  type = map(object({
    description = string
    namespace   = string
    metric      = string
    dimensions  = map(string)
    statistic   = string
    period      = number
  }))
  default = {}
}

variable "dead_letters" {
  description = "What waits in the dead-letter queue, for the dead-letters alarm's description (\"Runs that failed every retry\")."
  type        = string
}

variable "alarm_actions" {
  description = "ARNs the alarms notify."
  type        = list(string)
}

variable "alarm_ok_actions" {
  description = "ARNs notified when an alarm returns to OK."
  type        = list(string)
  default     = []
}
