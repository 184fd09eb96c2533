# One Lambda function the way eventkeeper runs its binaries: the released zip (or an S3 copy of
# it) on provided.al2023, its own log group, a role with the caller's grants plus its own logs,
# and a dead-letter queue for asynchronous invocations that fail every retry. The catch-up
# (this module's parent) and the notifier (../../../notifications) both call it.

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.role_name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

# The caller's grants (what the code calls), and what the platform needs for every function.
data "aws_iam_policy_document" "this" {
  source_policy_documents = [var.policy_json]

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# Kept 14 days: read, fix, replay.
resource "aws_sqs_queue" "dead_letters" {
  name                              = "${var.function_name}-dead-letters"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : var.dead_letter_key_reuse_seconds
  tags                              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step the project's release build (cargo-lambda zip) does not have; the zip's hash is tracked by source_code_hash.
  #checkov:skip=CKV_AWS_117:In a VPC only when the caller passes vpc (the catch-up of a cluster with a private endpoint); the notifier calls only AWS APIs and HTTPS webhooks and needs none.
  function_name = var.function_name
  description   = var.description
  role          = aws_iam_role.this.arn

  # The released zip (scripts/fetch-release.sh VERSION) from a local path, or its S3 mirror.
  filename          = var.lambda_zip_path
  source_code_hash  = var.lambda_zip_path == null ? null : filebase64sha256(var.lambda_zip_path)
  s3_bucket         = var.lambda_s3_bucket
  s3_key            = var.lambda_s3_key
  s3_object_version = var.lambda_s3_object_version
  runtime           = "provided.al2023"
  handler           = "bootstrap"
  architectures     = [var.architecture]

  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  dynamic "ephemeral_storage" {
    for_each = var.ephemeral_storage_mb == null ? [] : [var.ephemeral_storage_mb]
    content {
      size = ephemeral_storage.value
    }
  }

  environment {
    variables = var.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  dynamic "vpc_config" {
    for_each = var.vpc == null ? [] : [var.vpc]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]

  lifecycle {
    # Checked at plan time, before anything is created.
    precondition {
      condition     = (var.lambda_zip_path != null) != (var.lambda_s3_bucket != null && var.lambda_s3_key != null)
      error_message = "Give the ${var.code_name}'s code in exactly one way: lambda_zip_path (the released zip: scripts/fetch-release.sh VERSION downloads and verifies it), or lambda_s3_bucket and lambda_s3_key (your mirror of it)."
    }
  }
}

# An asynchronous invocation that fails is retried; then the invocation record, with its
# payload, goes to the dead-letter queue (the platform's dead_letter_config above, and with
# on_failure_to_dead_letters the invocation record with the request and the error).
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_retry_attempts
  maximum_event_age_in_seconds = var.async_max_event_age_seconds

  dynamic "destination_config" {
    for_each = var.on_failure_to_dead_letters ? [aws_sqs_queue.dead_letters.arn] : []
    content {
      on_failure {
        destination = destination_config.value
      }
    }
  }
}
