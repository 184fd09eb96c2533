# The catch-up function: lists every Event through the EKS API on a schedule and archives the
# observations it has not archived yet (lambda/; the release publishes its zips).

# Sizing from expected_live_events (the module README's "Sizing" has the measurements behind
# these constants). Memory buys CPU: 256 MB per 500,000 Events keeps a run's duration roughly
# flat; the backfill holds what the emitter missed (up to every live Event, ~1 KiB each).
locals {
  sizing_events        = var.expected_live_events
  sizing_cpu_mb        = max(256, 256 * ceil(local.sizing_events / 500000))
  sizing_backfill_mb   = var.backfill_log_group_name == null || var.backfill_log_group_name == "" ? 0 : ceil(local.sizing_events / 1024)
  catchup_memory_mb    = coalesce(var.lambda_memory_mb, min(10240, local.sizing_cpu_mb + local.sizing_backfill_mb))
  sizing_vcpu          = min(6, local.catchup_memory_mb / 1769)
  sizing_cpu_seconds   = local.sizing_events * 30 / 1000000
  catchup_timeout      = coalesce(var.lambda_timeout_seconds, min(900, max(300, ceil(3 * local.sizing_cpu_seconds / local.sizing_vcpu) + 180)))
  catchup_ephemeral_mb = coalesce(var.lambda_ephemeral_storage_mb, min(10240, max(512, ceil(2 * local.sizing_events * 100 / 1048576) + 64)))
}

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${local.name}"
  retention_in_days = var.lambda_log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "catchup" {
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step the project's build (cargo-lambda zip) does not have; the zip's hash is tracked by source_code_hash.
  #checkov:skip=CKV_AWS_117:Runs in a VPC only when var.vpc_config is set (private cluster endpoint); a public endpoint needs no VPC.
  function_name = local.name
  description   = "eventkeeper catch-up: archives Kubernetes Events of ${var.cluster_name} to S3"
  role          = aws_iam_role.lambda.arn

  # The released zip (scripts/fetch-release.sh VERSION) from a local path, or its S3 mirror.
  filename          = var.lambda_zip_path
  source_code_hash  = var.lambda_zip_path == null ? null : filebase64sha256(var.lambda_zip_path)
  s3_bucket         = var.lambda_s3_bucket
  s3_key            = var.lambda_s3_key
  s3_object_version = var.lambda_s3_object_version
  runtime           = "provided.al2023"
  handler           = "bootstrap"
  architectures     = [var.architecture]

  memory_size                    = local.catchup_memory_mb
  timeout                        = local.catchup_timeout
  reserved_concurrent_executions = var.lambda_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  ephemeral_storage {
    size = local.catchup_ephemeral_mb
  }

  environment {
    variables = local.lambda_environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda.name
  }

  tracing_config {
    mode = var.enable_xray ? "Active" : "PassThrough"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = [aws_security_group.lambda[0].id]
    }
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]

  lifecycle {
    # Checked at plan time, before anything is created.
    precondition {
      condition     = (var.lambda_zip_path != null) != (var.lambda_s3_bucket != null && var.lambda_s3_key != null)
      error_message = "Give the catch-up's code in exactly one way: lambda_zip_path (the released zip: scripts/fetch-release.sh VERSION downloads and verifies it), or lambda_s3_bucket and lambda_s3_key (your mirror of it)."
    }
    precondition {
      condition     = length(local.name) <= 40
      error_message = "The derived name \"${local.name}\" is longer than 40 characters (IAM role and function names are limited to 64): set var.name."
    }
  }
}

# Runs are idempotent; a failed asynchronous run is retried, then lands in the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "catchup" {
  function_name                = aws_lambda_function.catchup.function_name
  maximum_retry_attempts       = var.lambda_async_retry_attempts
  maximum_event_age_in_seconds = var.schedule_interval_minutes * 60
}

# Scheduler invocations that could not be delivered and runs that failed every retry.
resource "aws_sqs_queue" "dead_letters" {
  name                              = "${local.name}-dead-letters"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 3600
  tags                              = var.tags
}

# ---------------------------------------------------------------------------------------------
# Private clusters: the function in the VPC, 443 to the cluster security group
# ---------------------------------------------------------------------------------------------

resource "aws_security_group" "lambda" {
  count       = var.vpc_config == null ? 0 : 1
  name        = "${local.name}-lambda"
  description = "eventkeeper catch-up: HTTPS to the cluster endpoint and AWS APIs"
  vpc_id      = data.aws_subnet.first[0].vpc_id
  tags        = var.tags
}

data "aws_subnet" "first" {
  count = var.vpc_config == null ? 0 : 1
  id    = var.vpc_config.subnet_ids[0]
}

resource "aws_vpc_security_group_egress_rule" "to_cluster" {
  count                        = var.vpc_config == null ? 0 : 1
  security_group_id            = aws_security_group.lambda[0].id
  description                  = "Kubernetes API (cluster security group)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = var.vpc_config.cluster_security_group_id
  tags                         = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "cluster_from_lambda" {
  count                        = var.vpc_config == null ? 0 : 1
  security_group_id            = var.vpc_config.cluster_security_group_id
  description                  = "eventkeeper catch-up to the Kubernetes API"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.lambda[0].id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "to_cidr" {
  for_each          = var.vpc_config == null ? toset([]) : toset(var.vpc_config.egress_cidr_blocks)
  security_group_id = aws_security_group.lambda[0].id
  description       = "HTTPS to VPC endpoints or NAT (STS, S3, CloudWatch Logs, EKS)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "to_s3_gateway" {
  count             = try(var.vpc_config.s3_prefix_list_id, null) == null ? 0 : 1
  security_group_id = aws_security_group.lambda[0].id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.vpc_config.s3_prefix_list_id
  tags              = var.tags
}
