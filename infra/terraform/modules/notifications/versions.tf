terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # provided.al2023 (5.30); logging_config on Lambda (5.31). Nothing the module uses is
      # deprecated in 6.x (data.aws_region is read through `id`).
      version = ">= 5.40, < 7.0"
    }
  }
}
