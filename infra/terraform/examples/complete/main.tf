# The complete example: the catch-up of one EKS cluster whose emitter ships through Container
# Insights, with alarms to a new SNS topic and CloudWatch backfill into the application group.
#
#   make lambda-zip
#   terraform init && terraform apply -var cluster_name=my-cluster
#   helm install eventkeeper charts/eventkeeper -n eventkeeper --create-namespace \
#     --set clusterName=my-cluster --set catchUpAccess.enabled=true

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the cluster."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_name" {
  description = "The EKS cluster (authentication mode API or API_AND_CONFIG_MAP)."
  type        = string
}


module "eventkeeper" {
  source = "../../modules/eventkeeper"

  cluster_name = var.cluster_name
  # The zip `make lambda-zip` built for this architecture (target/lambda/arm64/...); without the
  # aarch64 target, use "x86_64".
  architecture = "arm64"

  # Container Insights: records under log_processed. in the application log group.
  field_prefix           = "log_processed."
  events_log_group_names = ["/aws/containerinsights/${var.cluster_name}/application"]

  # Backfill CloudWatch when the emitter was down, coordinated through its Lease (the chart's
  # release namespace and default Lease name).
  backfill_log_group_name = "/aws/containerinsights/${var.cluster_name}/application"
  lease_namespace         = "eventkeeper"

  archive_expiration_days = 400
  create_sns_topic        = true

  tags = {
    app = "eventkeeper"
  }
}

output "lambda_function_name" {
  description = "Invoke it once by hand: aws lambda invoke --function-name NAME /dev/stdout"
  value       = module.eventkeeper.lambda_function_name
}

output "kubernetes_group" {
  description = "The chart's catchUpAccess.group."
  value       = module.eventkeeper.kubernetes_group
}

output "athena" {
  description = "Database, table and workgroup for docs/athena.md."
  value = {
    database  = module.eventkeeper.athena_database
    table     = module.eventkeeper.athena_table
    workgroup = module.eventkeeper.athena_workgroup
  }
}

output "alarm_topic_arn" {
  description = "Subscribe to it."
  value       = module.eventkeeper.alarm_topic_arn
}
