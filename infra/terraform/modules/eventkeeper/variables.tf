# ---------------------------------------------------------------------------------------------
# Cluster and naming
# ---------------------------------------------------------------------------------------------

variable "cluster_name" {
  description = "Name of the EKS cluster whose Events are kept. Written into every record (`cluster`) and used to describe the cluster."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be an EKS cluster name (letters, digits, - and _, at most 100)."
  }
}

variable "name" {
  description = "Name prefix of every resource the module creates (lower case, digits and `-`, at most 40: IAM role and Lambda names are limited to 64). Defaults to `eventkeeper-<cluster_name>`, lower-cased with `_` as `-`."
  type        = string
  default     = null

  validation {
    condition     = var.name == null || can(regex("^[a-z0-9][a-z0-9-]{0,39}$", coalesce(var.name, "x")))
    error_message = "name must be lower case letters, digits and '-', at most 40 characters."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the catch-up's released zip for `architecture`: `scripts/fetch-release.sh VERSION` downloads `eventkeeper-catchup-VERSION-linux-<amd64|arm64>.zip` from the GitHub release and verifies it against SHA256SUMS (arm64 for `architecture = \"arm64\"`, amd64 for `x86_64`). Set this, or `lambda_s3_bucket` and `lambda_s3_key`."
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
  description = "Lambda architecture: `arm64` (Graviton, cheaper per GB-second) or `x86_64`. Give the matching released zip (linux-arm64 or linux-amd64)."
  type        = string
  default     = "arm64"
}

variable "expected_live_events" {
  description = "How many Events the cluster keeps live at its busiest (`kubectl get events -A --no-headers | wc -l`; Events live for the API server's TTL). Sizes the function's memory, timeout and ephemeral storage when those are null; see the module README's \"Sizing\" for the arithmetic."
  type        = number
  default     = 100000

  validation {
    condition     = var.expected_live_events >= 0 && var.expected_live_events <= 20000000
    error_message = "expected_live_events must be between 0 and 20000000."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the catch-up function (MB). null: sized from expected_live_events. The archive's memory does not grow with the cluster (one list page in flight, the object is compressed to ephemeral storage); memory buys CPU in Lambda (1769 MB = one vCPU), so the default gives 256 MB per 500,000 Events, plus 1 KiB per Event when the CloudWatch backfill is on (it holds the observations the emitter missed, up to every live Event)."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_memory_mb == null ? true : (var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb)
    error_message = "lambda_memory_mb must be null or a whole number of MB between 128 and 10240 (Lambda's limits)."
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout of one run (30 to 900 s). null: sized from expected_live_events and the memory's CPU share: three times the expected list-and-compress time plus 3 minutes for the upload and the backfill's wait for the Lease, at least 300 s. The limit guards against a hung API server."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_timeout_seconds == null ? true : (var.lambda_timeout_seconds >= 30 && var.lambda_timeout_seconds <= 900)
    error_message = "lambda_timeout_seconds must be null or between 30 and 900."
  }
}

variable "lambda_ephemeral_storage_mb" {
  description = "Ephemeral storage (/tmp) of the function (MB, 512 to 10240), where each run compresses its archive object before the upload. null: sized from expected_live_events: room for two objects of 100 bytes per Event (a run killed mid-upload leaves its file until the next run removes it) plus 64 MB, at least 512."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_ephemeral_storage_mb == null ? true : (var.lambda_ephemeral_storage_mb >= 512 && var.lambda_ephemeral_storage_mb <= 10240)
    error_message = "lambda_ephemeral_storage_mb must be null or between 512 and 10240."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the function. 2 lets a retried run overlap a scheduled one (the archive protocol makes that safe) while capping the load on the API server. -1 for none."
  type        = number
  default     = 2
}

variable "lambda_log_retention_days" {
  description = "Retention of the function's own log group (its run logs and EMF metrics documents), in days: one of the values CloudWatch Logs accepts (0 keeps them for ever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.lambda_log_retention_days)
    error_message = "lambda_log_retention_days must be one of CloudWatch Logs' retention values: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_format" {
  description = "Log format of the function on stderr: `json` or `text` (EVENTKEEPER_LOG_FORMAT)."
  type        = string
  default     = "json"

  validation {
    condition     = contains(["json", "text"], var.log_format)
    error_message = "log_format must be json or text."
  }
}

variable "page_size" {
  description = "Events per list page (EVENTKEEPER_PAGE_SIZE, 1 to 10000)."
  type        = number
  default     = 500

  validation {
    condition     = var.page_size >= 1 && var.page_size <= 10000
    error_message = "page_size must be between 1 and 10000."
  }
}

variable "enable_xray" {
  description = "Active X-Ray tracing of the function."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the function's environment, its log group, the dead-letter queue, the schedule, the SNS topic, the Athena results and (with `s3_sse = \"aws:kms\"`) the archive. null: AWS owned or managed keys, and an unencrypted alarm topic (CloudWatch alarms cannot publish to a topic under alias/aws/sns). The key policy must admit the services: logs.REGION.amazonaws.com, and cloudwatch.amazonaws.com for the alarm topic."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Schedule
# ---------------------------------------------------------------------------------------------

variable "event_ttl_minutes" {
  description = "How long the API server keeps an Event after its last update (kube-apiserver --event-ttl). 60 on EKS, where it cannot be changed (EVENTKEEPER_TTL)."
  type        = number
  default     = 60
}

variable "schedule_interval_minutes" {
  description = "Minutes between two runs; must be shorter than `event_ttl_minutes`. The default lists twice per TTL window, so one failed run loses nothing (EVENTKEEPER_SCHEDULE_INTERVAL, schedule `rate(N minutes)`)."
  type        = number
  default     = 30

  validation {
    condition     = var.schedule_interval_minutes >= 1 && floor(var.schedule_interval_minutes) == var.schedule_interval_minutes
    error_message = "schedule_interval_minutes must be a whole number of minutes, at least 1."
  }

  validation {
    condition     = var.schedule_interval_minutes < var.event_ttl_minutes
    error_message = "schedule_interval_minutes must be shorter than event_ttl_minutes, or events can expire between two runs."
  }
}

variable "schedule_enabled" {
  description = "Whether the schedule runs (ENABLED) or is paused (DISABLED)."
  type        = bool
  default     = true
}

variable "schedule_max_retry_attempts" {
  description = "How often EventBridge Scheduler retries an invocation it could not deliver, before the event goes to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.schedule_max_retry_attempts >= 0 && var.schedule_max_retry_attempts <= 185 && floor(var.schedule_max_retry_attempts) == var.schedule_max_retry_attempts
    error_message = "schedule_max_retry_attempts must be a whole number between 0 and 185 (EventBridge Scheduler's limit)."
  }
}

variable "lambda_async_retry_attempts" {
  description = "How often Lambda retries a failed asynchronous run (0 to 2) before it goes to the dead-letter queue. Runs are idempotent."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.lambda_async_retry_attempts)
    error_message = "lambda_async_retry_attempts must be 0, 1 or 2 (Lambda's limit for asynchronous invocations)."
  }
}

# ---------------------------------------------------------------------------------------------
# S3 archive
# ---------------------------------------------------------------------------------------------

variable "create_bucket" {
  description = "Create the archive bucket (true), or use an existing one named `bucket_name` whose configuration is left alone (false)."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Name of the archive bucket. Required when `create_bucket = false`; defaults to `<name>-<account id>` when the module creates it."
  type        = string
  default     = null
}

variable "archive_prefix" {
  description = "Key prefix of the archive (EVENTKEEPER_PREFIX) and the Athena table's location: objects are `PREFIX/cluster=NAME/dt=YYYY-MM-DD/hour=HH/*.json.gz`, the checkpoint `PREFIX/_eventkeeper/cluster=NAME/catchup-checkpoint.json`."
  type        = string
  default     = "events"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.archive_prefix))
    error_message = "archive_prefix must be a non-empty key prefix without leading or trailing '/'."
  }
}

variable "s3_sse" {
  description = "Default encryption of the bucket the module creates: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS with `kms_key_arn`, or the AWS managed key when that is null)."
  type        = string
  default     = "AES256"

  validation {
    condition     = contains(["AES256", "aws:kms"], var.s3_sse)
    error_message = "s3_sse must be AES256 or aws:kms."
  }
}

variable "archive_transition_days" {
  description = "Days after which archive objects move to `archive_transition_storage_class`. null keeps them in STANDARD."
  type        = number
  default     = 30
}

variable "archive_transition_storage_class" {
  description = "Storage class objects move to after `archive_transition_days` (STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR; Athena cannot read GLACIER or DEEP_ARCHIVE)."
  type        = string
  default     = "STANDARD_IA"
}

variable "archive_expiration_days" {
  description = "Days after which archive objects are deleted. null keeps them for ever."
  type        = number
  default     = null
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent versions (old checkpoints, mostly) are deleted."
  type        = number
  default     = 30
}

variable "object_lock_retention_days" {
  description = "With a value, the module's bucket is created with S3 Object Lock and this default GOVERNANCE retention: nobody can delete or overwrite the archive in that time. null: no Object Lock. Set it at creation; it cannot be turned off later."
  type        = number
  default     = null
}

variable "access_log_bucket" {
  description = "Bucket for S3 server access logs of the archive bucket (the module's bucket only). null: no access logging."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# EKS access
# ---------------------------------------------------------------------------------------------

variable "kubernetes_group" {
  description = "Kubernetes group of the Lambda's access entry. Must equal the Helm chart's `catchUpAccess.group`, whose RBAC grants events get/list and get/update on the emitter's Lease."
  type        = string
  default     = "eventkeeper-catchup"
}

variable "associate_view_policy" {
  description = "Also associate AmazonEKSViewPolicy (cluster scope) with the access entry: lets the function list events without the chart's catch-up RBAC, but gives read access to much more than events and no Lease access (no backfill coordination). Prefer the chart's RBAC."
  type        = bool
  default     = false
}

variable "create_access_entry" {
  description = "Create the EKS access entry for the function's role. The cluster's authentication mode must be API or API_AND_CONFIG_MAP."
  type        = bool
  default     = true
}

variable "vpc_config" {
  description = <<-EOT
    Run the function in the VPC (private cluster endpoint). `subnet_ids`: private subnets that reach
    the cluster endpoint and, through VPC endpoints or NAT, STS, S3, CloudWatch Logs and EKS.
    `cluster_security_group_id`: the cluster security group; the module lets the function's security
    group reach it on 443 and adds the matching ingress rule. `egress_cidr_blocks`: where else 443 may
    go (interface endpoints, NAT). null: the function runs outside any VPC (public endpoint).
  EOT
  type = object({
    subnet_ids                = list(string)
    cluster_security_group_id = string
    egress_cidr_blocks        = optional(list(string), [])
    s3_prefix_list_id         = optional(string)
  })
  default = null
}

# ---------------------------------------------------------------------------------------------
# CloudWatch Logs backfill (issue 8): off unless a log group is given
# ---------------------------------------------------------------------------------------------

variable "backfill_log_group_name" {
  description = "Log group the function backfills when the emitter was down (EVENTKEEPER_BACKFILL_LOG_GROUP): the group your shipper writes records to. null: no backfill, and no CloudWatch Logs permission beyond the function's own logs."
  type        = string
  default     = null
}

variable "backfill_log_stream_name" {
  description = "Log stream of backfilled records (EVENTKEEPER_BACKFILL_LOG_STREAM). null: the function's default."
  type        = string
  default     = null
}

variable "lease_namespace" {
  description = "Namespace of the emitter's Lease: the chart's release namespace (EVENTKEEPER_LEASE_NAMESPACE; the chart's install notes print it). null: the function's default, `eventkeeper`, the namespace the install guide uses."
  type        = string
  default     = null

  validation {
    condition     = var.lease_namespace == null || can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", coalesce(var.lease_namespace, "x")))
    error_message = "lease_namespace must be a Kubernetes namespace name (lower case letters, digits and '-', at most 63)."
  }
}

variable "backfill_lease_duration" {
  description = "How long the function's hold on the emitter's Lease lasts between renewals while it backfills, e.g. `60s` (EVENTKEEPER_BACKFILL_LEASE_DURATION). null: the function's default."
  type        = string
  default     = null
}

variable "lease_name" {
  description = "Name of the emitter's Lease: the chart's `leaderElection.leaseName` (EVENTKEEPER_LEASE_NAME; the chart's install notes print it). null: the function's default, `eventkeeper`, which is also the chart's default for any release name."
  type        = string
  default     = null

  validation {
    condition     = var.lease_name == null || can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", coalesce(var.lease_name, "x")))
    error_message = "lease_name must be a Kubernetes object name (lower case letters, digits, '-' and '.', at most 253)."
  }
}

# ---------------------------------------------------------------------------------------------
# Queries, dashboard, alarms
# ---------------------------------------------------------------------------------------------

variable "field_prefix" {
  description = "Where record fields appear in CloudWatch Logs: `log_processed.` (Container Insights), `data.` (aws-for-fluent-bit), or \"\" (Vector, or records at the top level). Also the backfill's envelope."
  type        = string
  default     = "log_processed."

  validation {
    condition     = contains(["log_processed.", "data.", ""], var.field_prefix)
    error_message = "field_prefix must be \"log_processed.\", \"data.\" or \"\"."
  }
}

variable "events_log_group_names" {
  description = "Log groups that hold the records, for the saved queries and the dashboard. Defaults to `/aws/containerinsights/<cluster>/application` (Container Insights)."
  type        = list(string)
  default     = null
}

variable "create_saved_queries" {
  description = "Create the Logs Insights saved queries."
  type        = bool
  default     = true
}

variable "create_dashboard" {
  description = "Create the CloudWatch dashboard."
  type        = bool
  default     = true
}

variable "create_alarms" {
  description = "Create the alarms (function errors, possible gap, no archive, dead letters)."
  type        = bool
  default     = true
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic alarms notify. null with `create_sns_topic = false`: alarms notify nobody."
  type        = string
  default     = null
}

variable "create_sns_topic" {
  description = "Create an SNS topic for the alarms (ignored when `alarm_sns_topic_arn` is set)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Athena
# ---------------------------------------------------------------------------------------------

variable "create_athena" {
  description = "Create the Glue database and table over the archive and an Athena workgroup."
  type        = bool
  default     = true
}

variable "athena_database_name" {
  description = "Glue database name. Defaults to `eventkeeper_<cluster_name>` (lower case, `-` as `_`)."
  type        = string
  default     = null
}

variable "athena_table_name" {
  description = "Glue table name."
  type        = string
  default     = "events"
}

variable "athena_projection_start_date" {
  description = "First `dt` partition the table projects (YYYY-MM-DD): the day the archive starts."
  type        = string
  default     = "2026-01-01"

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}$", var.athena_projection_start_date))
    error_message = "athena_projection_start_date must be YYYY-MM-DD."
  }
}

variable "athena_results_prefix" {
  description = "Key prefix, in the archive bucket, of the Athena workgroup's query results (outside `archive_prefix`)."
  type        = string
  default     = "athena-results"
}
