# Least privilege. The actions the function's code calls come from iam-actions.json, generated
# from lambda/src/iam.rs (`make iam-actions`), each group granted on its one resource. The other
# statements are what the Lambda platform needs for this function: its dead-letter queue and the
# KMS key (send_dead_letters, shared with the scheduler); the submodule adds its own logs.

data "aws_iam_policy_document" "lambda" {
  source_policy_documents = [data.aws_iam_policy_document.send_dead_letters.json]

  statement {
    sid       = "EksCluster"
    actions   = local.iam_actions.eks_cluster
    resources = [local.cluster_arn]
  }

  # Archive objects and the checkpoint (PREFIX/_eventkeeper/...) are all under the prefix.
  statement {
    sid       = "S3ArchiveObjects"
    actions   = local.iam_actions.s3_archive_objects
    resources = ["${local.bucket_arn}/${var.archive_prefix}/*"]
  }

  # Listing the bucket is what makes S3 answer 404 rather than 403 for a key that does not exist
  # (the first checkpoint read, a claimed object not uploaded yet). Granted when the code's
  # actions name the group (lambda/src/iam.rs).
  dynamic "statement" {
    for_each = { for group, actions in local.iam_actions : group => actions if group == "s3_archive_bucket" }
    content {
      sid       = "S3ArchiveBucket"
      actions   = statement.value
      resources = [local.bucket_arn]
    }
  }

  # CloudWatch Logs backfill: the events log group and its streams, only when backfill is on.
  dynamic "statement" {
    for_each = local.backfill ? [var.backfill_log_group_name] : []
    content {
      sid     = "EventsLogGroup"
      actions = local.iam_actions.events_log_group
      resources = [
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${statement.value}",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${statement.value}:log-stream:*",
      ]
    }
  }

}

# What both the function (asynchronous retries exhausted) and the scheduler (undeliverable
# invocations) need to send dead letters: the queue, and the customer managed key if there is
# one (which also serves the function's SSE-KMS archive and encrypted environment).
data "aws_iam_policy_document" "send_dead_letters" {
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [module.catchup.dead_letter_queue.arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "Kms"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

# X-Ray segments and ENIs in the VPC: the AWS managed policies for exactly that.
resource "aws_iam_role_policy_attachment" "xray" {
  count      = var.enable_xray ? 1 : 0
  role       = module.catchup.role_name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_iam_role_policy_attachment" "vpc" {
  count      = var.vpc_config == null ? 0 : 1
  role       = module.catchup.role_name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}
