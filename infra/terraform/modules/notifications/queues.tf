# Deliveries that failed every retry (with their payload), and invocations that failed every
# retry (with the subscription payload): read, fix, replay. Kept 14 days.

resource "aws_sqs_queue" "dead_letters" {
  name                              = "${var.name}-dead-letters"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 300
  tags                              = var.tags
}

resource "aws_sns_topic" "notifications" {
  count             = var.create_sns_topic ? 1 : 0
  name              = var.name
  kms_master_key_id = coalesce(var.kms_key_arn, "alias/aws/sns")
  tags              = var.tags
}
