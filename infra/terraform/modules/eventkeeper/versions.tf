terraform {
  # Variable validations that refer to other variables (schedule interval < TTL) need 1.9.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # aws_eks_access_entry (5.33); provided.al2023 (5.30); Scheduler and Glue projection earlier.
      # Nothing the module uses is deprecated in 6.x (data.aws_region is read through `id`).
      version = ">= 5.40, < 7.0"
    }
  }
}
