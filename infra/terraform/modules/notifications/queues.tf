# The module's topic: sns destinations without a topic_arn of their own, and the alarms.
# (The dead-letter queue is the lambda-function submodule's.)

resource "aws_sns_topic" "notifications" {
  count             = var.create_sns_topic ? 1 : 0
  name              = var.name
  kms_master_key_id = coalesce(var.kms_key_arn, "alias/aws/sns")
  tags              = var.tags
}
