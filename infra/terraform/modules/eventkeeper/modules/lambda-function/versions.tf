# The AWS provider's version is the calling module's constraint (>= 5.40, < 7.0).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
