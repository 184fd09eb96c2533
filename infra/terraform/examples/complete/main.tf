# The complete example: the catch-up of one EKS cluster whose emitter ships through Container
# Insights, with alarms to a new SNS topic and CloudWatch backfill into the application group.
#
#   scripts/fetch-release.sh 0.1.0        # the released Lambda zips, verified against SHA256SUMS
#   terraform init && terraform apply -var cluster_name=my-cluster \
#     -var lambda_zip_path=eventkeeper-0.1.0/eventkeeper-catchup-0.1.0-linux-arm64.zip
#   $(terraform output -raw helm_install_command)   # the chart, with the same Lease

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
  description = "Region of the cluster."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_name" {
  description = "The EKS cluster (authentication mode API or API_AND_CONFIG_MAP)."
  type        = string
}

variable "lambda_zip_path" {
  description = "The released arm64 zip: scripts/fetch-release.sh VERSION writes eventkeeper-VERSION/eventkeeper-catchup-VERSION-linux-arm64.zip."
  type        = string
}

variable "chart_version" {
  description = "Version of the Helm chart (oci://ghcr.io/eventkeeper/charts/eventkeeper) the emitter is installed from."
  type        = string
  default     = "0.1.0"
}

# The emitter's Lease, in one place: the chart's release namespace and leaderElection.leaseName,
# and the catch-up's lease_namespace and lease_name. The backfill coordinates through it.
locals {
  lease = {
    namespace = "eventkeeper"
    name      = "eventkeeper"
  }
}


module "eventkeeper" {
  source = "../../modules/eventkeeper"

  cluster_name = var.cluster_name
  # The released zip of this architecture (linux-arm64); for "x86_64" give the linux-amd64 zip.
  architecture    = "arm64"
  lambda_zip_path = var.lambda_zip_path

  # Container Insights: records under log_processed. in the application log group.
  field_prefix           = "log_processed."
  events_log_group_names = ["/aws/containerinsights/${var.cluster_name}/application"]

  # Backfill CloudWatch when the emitter was down, coordinated through the emitter's Lease.
  backfill_log_group_name = "/aws/containerinsights/${var.cluster_name}/application"
  lease_namespace         = local.lease.namespace
  lease_name              = local.lease.name

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

output "lambda_log_group_name" {
  description = "The catch-up's own run logs and EMF metrics."
  value       = module.eventkeeper.lambda_log_group_name
}

output "bucket_name" {
  description = "The S3 archive."
  value       = module.eventkeeper.bucket_name
}

output "events_log_group_name" {
  description = "Where the records land (Container Insights' application log group)."
  value       = "/aws/containerinsights/${var.cluster_name}/application"
}

output "saved_query_names" {
  description = "Logs Insights saved queries (CloudWatch console, Logs Insights, Saved queries)."
  value       = module.eventkeeper.saved_query_names
}

output "helm_install_command" {
  description = "Installs the emitter with the Lease the catch-up coordinates through, and the catch-up's RBAC."
  value = join(" ", [
    "helm install eventkeeper oci://ghcr.io/eventkeeper/charts/eventkeeper --version ${var.chart_version}",
    "-n ${local.lease.namespace} --create-namespace --set clusterName=${var.cluster_name}",
    "--set leaderElection.leaseName=${local.lease.name}",
    "--set catchUpAccess.enabled=true --set catchUpAccess.group=${module.eventkeeper.kubernetes_group}",
  ])
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
