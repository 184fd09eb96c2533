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

# The function, its log group, role and dead-letter queue: the shared lambda-function submodule
# (the notifier's module calls it too).
module "catchup" {
  source = "./modules/lambda-function"

  function_name = local.name
  description   = "eventkeeper catch-up: archives Kubernetes Events of ${var.cluster_name} to S3"
  code_name     = "catch-up"
  role_name     = "${local.name}-catchup"
  policy_name   = "catchup"
  policy_json   = data.aws_iam_policy_document.lambda.json

  lambda_zip_path          = var.lambda_zip_path
  lambda_s3_bucket         = var.lambda_s3_bucket
  lambda_s3_key            = var.lambda_s3_key
  lambda_s3_object_version = var.lambda_s3_object_version
  architecture             = var.architecture

  memory_mb            = local.catchup_memory_mb
  timeout_seconds      = local.catchup_timeout
  ephemeral_storage_mb = local.catchup_ephemeral_mb
  reserved_concurrency = var.lambda_reserved_concurrency
  environment          = local.lambda_environment
  tracing_mode         = var.enable_xray ? "Active" : "PassThrough"
  vpc = var.vpc_config == null ? null : {
    subnet_ids         = var.vpc_config.subnet_ids
    security_group_ids = [aws_security_group.lambda[0].id]
  }

  # Runs are idempotent; a failed asynchronous run is retried, then lands in the dead-letter
  # queue, which also takes the scheduler's undeliverable invocations.
  async_retry_attempts          = var.lambda_async_retry_attempts
  async_max_event_age_seconds   = var.schedule_interval_minutes * 60
  dead_letter_key_reuse_seconds = 3600

  create_alarms     = var.create_alarms
  above_zero_alarms = local.above_zero_alarms
  dead_letters      = "Scheduled runs of the eventkeeper catch-up of ${var.cluster_name} that could not be delivered or failed every retry"
  alarm_actions     = local.alarm_actions
  alarm_ok_actions  = local.alarm_actions

  log_retention_days = var.lambda_log_retention_days
  kms_key_arn        = var.kms_key_arn
  tags               = var.tags
}

# Addresses before the submodule: `terraform apply` moves them, nothing is recreated.
moved {
  from = aws_cloudwatch_log_group.lambda
  to   = module.catchup.aws_cloudwatch_log_group.this
}

moved {
  from = aws_lambda_function.catchup
  to   = module.catchup.aws_lambda_function.this
}

moved {
  from = aws_lambda_function_event_invoke_config.catchup
  to   = module.catchup.aws_lambda_function_event_invoke_config.this
}

moved {
  from = aws_sqs_queue.dead_letters
  to   = module.catchup.aws_sqs_queue.dead_letters
}

moved {
  from = aws_iam_role.lambda
  to   = module.catchup.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda
  to   = module.catchup.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_metric_alarm.above_zero
  to   = module.catchup.aws_cloudwatch_metric_alarm.above_zero
}

# ---------------------------------------------------------------------------------------------
# Private clusters: the function in the VPC, 443 to the cluster security group
# ---------------------------------------------------------------------------------------------

resource "aws_security_group" "lambda" {
  #checkov:skip=CKV2_AWS_5:Attached to the function through the lambda-function submodule's vpc input (security_group_ids), which the graph check does not follow.
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
