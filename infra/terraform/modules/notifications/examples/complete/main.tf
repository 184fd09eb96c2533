# The notifier for one cluster whose emitter ships through Container Insights: Slack (URL in
# Secrets Manager), Teams (URL in an SSM SecureString), the module's SNS topic and the default
# EventBridge bus, with a customer managed key for everything it stores.
#
#   scripts/fetch-release.sh 0.1.0      # the released zips, verified against SHA256SUMS
#   terraform init && terraform apply -var cluster_name=my-cluster \
#     -var lambda_zip_path=eventkeeper-0.1.0/eventkeeper-notify-0.1.0-linux-amd64.zip \
#     -var slack_secret_arn=arn:aws:secretsmanager:... -var teams_parameter_arn=arn:aws:ssm:...

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the cluster and its log group."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_name" {
  description = "The EKS cluster whose Events are notified."
  type        = string
}

variable "lambda_zip_path" {
  description = "The released amd64 zip: scripts/fetch-release.sh VERSION writes eventkeeper-VERSION/eventkeeper-notify-VERSION-linux-amd64.zip."
  type        = string
}

variable "slack_secret_arn" {
  description = "Secrets Manager secret holding the Slack incoming-webhook URL."
  type        = string
}

variable "teams_parameter_arn" {
  description = "SSM SecureString parameter holding the Teams workflow-webhook URL."
  type        = string
}

data "aws_caller_identity" "current" {}

# The key must let CloudWatch (alarms) and EventBridge publish to the encrypted topic.
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's resource is the key itself ("*" in a key policy).
  #checkov:skip=CKV_AWS_111:A key policy's resource is the key itself ("*" in a key policy).
  #checkov:skip=CKV_AWS_356:A key policy's resource is the key itself ("*" in a key policy).
  statement {
    sid       = "Account"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "AlarmsAndLogs"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:Encrypt", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "logs.${var.region}.amazonaws.com", "events.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "notify" {
  description         = "eventkeeper notifier"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

module "notifications" {
  source = "../.."

  name                  = "eventkeeper-notify-${var.cluster_name}"
  events_log_group_name = "/aws/containerinsights/${var.cluster_name}/application"
  field_prefix          = "log_processed."
  architecture          = "x86_64"
  lambda_zip_path       = var.lambda_zip_path
  kms_key_arn           = aws_kms_key.notify.arn

  destinations = [
    { name = "slack", kind = "slack", secret_arn = var.slack_secret_arn },
    { name = "teams", kind = "teams", secret_arn = var.teams_parameter_arn },
    { name = "topic", kind = "sns" },
    { name = "bus", kind = "eventbridge", bus_name = "default" },
  ]

  # Everything to chat; only node trouble to the topic and the bus.
  rules = [
    { name = "nodes", match = "reason=NodeNotReady,Rebooted kind=Node" },
    { name = "crash-loop", match = "reason=BackOff,CrashLoopBackOff", destinations = ["slack", "teams"] },
    { name = "disk-timeouts", match = "reason=FailedMount,FailedAttachVolume", message = "timed out", destinations = ["slack"] },
  ]
}
