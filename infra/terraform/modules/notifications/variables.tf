variable "name" {
  description = "Name prefix of every resource (lower case, digits and `-`, at most 40)."
  type        = string
  default     = "eventkeeper-notify"

  validation {
    condition     = can(regex("^[a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 1 to 40 lower-case letters, digits or '-'."
  }
}

variable "events_log_group_name" {
  description = "The log group the emitter's records (and the catch-up's backfill) land in, e.g. `/aws/containerinsights/CLUSTER/application`."
  type        = string
}

variable "field_prefix" {
  description = "Where record fields appear in the log group: `log_processed.` (Container Insights), `data.` (aws-for-fluent-bit) or \"\" (Vector). Same as the eventkeeper module's."
  type        = string
  default     = "log_processed."

  validation {
    condition     = contains(["log_processed.", "data.", ""], var.field_prefix)
    error_message = "field_prefix must be \"log_processed.\", \"data.\" or \"\"."
  }
}

variable "destinations" {
  description = "Where notifications go. `kind` is slack, teams or webhook (with `secret_arn`: a Secrets Manager secret or SSM SecureString parameter holding the URL, or for webhook `{\"url\":..,\"signingKey\":..}`), sns (with `topic_arn`; null with create_sns_topic uses the module's topic) or eventbridge (with `bus_name`)."
  type = list(object({
    name       = string
    kind       = string
    secret_arn = optional(string)
    topic_arn  = optional(string)
    bus_name   = optional(string)
  }))

  validation {
    condition     = length(var.destinations) > 0 && alltrue([for d in var.destinations : contains(["slack", "teams", "webhook", "sns", "eventbridge"], d.kind)])
    error_message = "destinations must be a non-empty list of slack, teams, webhook, sns or eventbridge destinations."
  }

  validation {
    condition     = alltrue([for d in var.destinations : !contains(["slack", "teams", "webhook"], d.kind) || can(regex("^arn:aws[a-z-]*:(secretsmanager:[^:]+:[0-9]+:secret:|ssm:[^:]+:[0-9]+:parameter/)", d.secret_arn))])
    error_message = "slack, teams and webhook destinations need secret_arn: a Secrets Manager secret or SSM parameter ARN (never a plain URL)."
  }
}

variable "rules" {
  description = "Notification rules (`match` in the filter grammar, optional `message` regex, `destinations` by name, default all). null: the default rule set (docs/notifications.md)."
  type = list(object({
    name         = string
    match        = string
    message      = optional(string)
    destinations = optional(list(string))
  }))
  default = null
}

variable "thresholds" {
  description = "Occurrence counts of a group that notify again."
  type        = list(number)
  default     = [10, 100, 1000]
}

variable "quiet_period_seconds" {
  description = "A group not seen for this long is notified again as a new episode."
  type        = number
  default     = 3600
}

variable "burst_limit" {
  description = "More messages than this for one destination in one invocation become one digest."
  type        = number
  default     = 5
}

variable "late_after_seconds" {
  description = "Records older than this are notified marked late (metric Late)."
  type        = number
  default     = 900
}

variable "prefilter_reasons" {
  description = "Reasons pre-selected by the subscription filter besides every Warning: the default rules' reasons that kubelet and the node controller report as Normal."
  type        = list(string)
  default     = ["BackOff", "NodeNotReady", "Preempted", "Rebooted"]
}

variable "create_sns_topic" {
  description = "Create a KMS-encrypted SNS topic for notifications and the module's alarms."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the table, topic, queue, logs and environment. null: AWS managed keys."
  type        = string
  default     = null
}

variable "lambda_zip_path" {
  description = "Path of the notifier's released zip for `architecture`: `scripts/fetch-release.sh VERSION` downloads `eventkeeper-notify-VERSION-linux-<amd64|arm64>.zip` from the GitHub release and verifies it against SHA256SUMS (arm64 for `architecture = \"arm64\"`, amd64 for `x86_64`). Set this, or `lambda_s3_bucket` and `lambda_s3_key`."
  type        = string
  default     = null
}

variable "lambda_s3_bucket" {
  description = "Bucket of an S3 copy of the released zip (organisations that mirror artifacts), with `lambda_s3_key`; instead of `lambda_zip_path`. Same region as the function."
  type        = string
  default     = null
}

variable "lambda_s3_key" {
  description = "Key of the released zip in `lambda_s3_bucket`."
  type        = string
  default     = null
}

variable "lambda_s3_object_version" {
  description = "Version of the zip's S3 object (versioned buckets): a new version updates the function. null: the latest, and Terraform does not see a new upload under the same key."
  type        = string
  default     = null
}

variable "architecture" {
  description = "x86_64 or arm64."
  type        = string
  default     = "arm64"
}

variable "lambda_memory_mb" {
  description = "Function memory (MB). 128 holds a full 1 MB subscription payload (peak 54 MiB) and handles it in under 1 s, 260 new groups included (~0.5 s median); 256 about halves that (docs/performance.md, notifier benchmark)."
  type        = number
  default     = 128
}

variable "lambda_timeout_seconds" {
  description = "Function timeout; the claim lease is this plus a minute."
  type        = number
  default     = 60
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency (-1: none)."
  type        = number
  default     = 10
}

variable "log_retention_days" {
  description = "Retention of the function's own log group."
  type        = number
  default     = 365
}

variable "silence_period_seconds" {
  description = "Period of the silence alarm's metric."
  type        = number
  default     = 300
}

variable "silence_periods" {
  description = "The silence alarm fires when no record arrives for this many periods (missing data breaching)."
  type        = number
  default     = 3
}

variable "alarm_actions" {
  description = "Further ARNs notified by the module's alarms (the module's topic is always one)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
