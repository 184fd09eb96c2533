# EventBridge Scheduler: every `schedule_interval_minutes`, an asynchronous invocation whose
# payload names the scheduled time, so a run delivered twice is recognised as the same run
# (lambda/src/schedule.rs).

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  source_policy_documents = [data.aws_iam_policy_document.send_dead_letters.json]

  statement {
    sid       = "Invoke"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.catchup.function_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-catchup"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

locals {
  schedule_expression = "rate(${var.schedule_interval_minutes} ${var.schedule_interval_minutes == 1 ? "minute" : "minutes"})"
}

resource "aws_scheduler_schedule" "catchup" {
  name        = local.name
  description = "eventkeeper catch-up of ${var.cluster_name}"
  state       = var.schedule_enabled ? "ENABLED" : "DISABLED"

  schedule_expression = local.schedule_expression
  kms_key_arn         = var.kms_key_arn

  # The run's identity is its scheduled time: no flexible window.
  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.catchup.function_arn
    role_arn = aws_iam_role.scheduler.arn
    # A literal, not jsonencode(): jsonencode writes < and > as \u003c and \u003e, and the
    # scheduler would no longer see its placeholder.
    input = "{\"scheduledTime\": \"<aws.scheduler.scheduled-time>\"}"

    retry_policy {
      maximum_retry_attempts       = var.schedule_max_retry_attempts
      maximum_event_age_in_seconds = var.schedule_interval_minutes * 60
    }

    dead_letter_config {
      arn = module.catchup.dead_letter_queue.arn
    }
  }

  lifecycle {
    # Checked at plan time, before anything is created.
    precondition {
      condition     = length(local.name) <= 40
      error_message = "The derived name \"${local.name}\" is longer than 40 characters (IAM role and function names are limited to 64): set var.name."
    }
  }
}

# Scheduler and Lambda send dead letters with their roles' sqs:SendMessage; TLS only (s3.tf).
resource "aws_sqs_queue_policy" "dead_letters" {
  queue_url = module.catchup.dead_letter_queue.url
  policy    = data.aws_iam_policy_document.tls_only["dead_letters"].json
}
