# The archive: gzip JSON lines under PREFIX/cluster=NAME/dt=YYYY-MM-DD/hour=HH/. Created here, or
# an existing bucket (create_bucket = false) whose configuration stays with its owner.

locals {
  bucket_name = var.create_bucket ? coalesce(var.bucket_name, "${local.name}-${local.account_id}") : var.bucket_name
  bucket_arn  = "arn:${local.partition}:s3:::${local.bucket_name}"
}

resource "aws_s3_bucket" "archive" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice with a second bucket and role; out of scope for the module, add it on the bucket if you need it.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object-created events; Athena reads the archive through partition projection.
  #checkov:skip=CKV_AWS_18:Access logging is optional (var.access_log_bucket); logging into the archive bucket itself would loop.
  #checkov:skip=CKV_AWS_145:SSE-KMS is a variable (s3_sse = "aws:kms"); the default SSE-S3 avoids KMS request costs for a write-mostly archive.
  count               = var.create_bucket ? 1 : 0
  bucket              = local.bucket_name
  object_lock_enabled = var.object_lock_retention_days != null
  tags                = var.tags

  lifecycle {
    precondition {
      condition     = var.create_bucket || var.bucket_name != null
      error_message = "bucket_name is required when create_bucket = false."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "archive" {
  count                   = var.create_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.archive[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "archive" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.archive[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.archive[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.s3_sse
      kms_master_key_id = var.s3_sse == "aws:kms" ? var.kms_key_arn : null
    }
    bucket_key_enabled = var.s3_sse == "aws:kms"
  }
}

resource "aws_s3_bucket_versioning" "archive" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.archive[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "archive" {
  count  = var.create_bucket && var.object_lock_retention_days != null ? 1 : 0
  bucket = aws_s3_bucket.archive[0].id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = var.object_lock_retention_days
    }
  }
  depends_on = [aws_s3_bucket_versioning.archive]
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.archive[0].id

  rule {
    id     = "archive"
    status = "Enabled"
    filter {
      prefix = "${var.archive_prefix}/"
    }

    dynamic "transition" {
      for_each = var.archive_transition_days == null ? [] : [var.archive_transition_days]
      content {
        days          = transition.value
        storage_class = var.archive_transition_storage_class
      }
    }

    dynamic "expiration" {
      for_each = var.archive_expiration_days == null ? [] : [var.archive_expiration_days]
      content {
        days = expiration.value
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  # The whole bucket: multipart uploads left behind cost money and are never visible.
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "athena-results"
    status = "Enabled"
    filter {
      prefix = "${var.athena_results_prefix}/"
    }
    expiration {
      days = 30
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.archive]
}

resource "aws_s3_bucket_logging" "archive" {
  count         = var.create_bucket && var.access_log_bucket != null ? 1 : 0
  bucket        = aws_s3_bucket.archive[0].id
  target_bucket = var.access_log_bucket
  target_prefix = "${local.bucket_name}/"
}

# TLS only, for the archive here and the dead-letter queue (schedule.tf): one statement each.
locals {
  tls_only = {
    archive      = { service = "s3", resources = [local.bucket_arn, "${local.bucket_arn}/*"] }
    dead_letters = { service = "sqs", resources = [module.catchup.dead_letter_queue.arn] }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.tls_only

  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["${each.value.service}:*"]
    resources = each.value.resources
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "archive" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.archive[0].id
  policy = data.aws_iam_policy_document.tls_only["archive"].json

  depends_on = [aws_s3_bucket_public_access_block.archive]
}
