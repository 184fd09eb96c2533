# Athena over the archive: a Glue table of schema v1 records (JSON SerDe, gzip is read by the
# .gz extension) with partition projection on the key layout, so no crawler and no
# MSCK REPAIR. The record's own `cluster` column is data; the partition column is archive_cluster.

locals {
  athena_database = coalesce(var.athena_database_name, "eventkeeper_${replace(lower(var.cluster_name), "-", "_")}")
  object_ref      = "struct<apiVersion:string,fieldPath:string,kind:string,name:string,namespace:string,resourceVersion:string,uid:string>"

  # Schema v1's top-level properties, in the order of docs/schema.md (scripts/terraform checks
  # names and types against docs/schema/event-v1.json).
  athena_columns = [
    ["schemaVersion", "bigint"],
    ["cluster", "string"],
    ["origin", "string"],
    ["originalApiVersion", "string"],
    ["effectiveTime", "string"],
    ["effectiveTimeField", "string"],
    ["occurrences", "bigint"],
    ["reporter", "struct<component:string,instance:string>"],
    ["metadata", "struct<name:string,namespace:string,uid:string,resourceVersion:string,creationTimestamp:string,labels:map<string,string>,annotations:map<string,string>>"],
    ["involvedObject", local.object_ref],
    ["reason", "string"],
    ["message", "string"],
    ["type", "string"],
    ["count", "bigint"],
    ["source", "struct<component:string,host:string>"],
    ["firstTimestamp", "string"],
    ["lastTimestamp", "string"],
    ["eventTime", "string"],
    ["series", "struct<count:bigint,lastObservedTime:string,state:string>"],
    ["reportingComponent", "string"],
    ["reportingInstance", "string"],
    ["action", "string"],
    ["related", local.object_ref],
    ["truncated", "struct<fields:array<string>,originalLineBytes:bigint,originalMessageBytes:bigint,labelsDropped:bigint,annotationsDropped:bigint>"],
  ]
}

resource "aws_glue_catalog_database" "events" {
  count       = var.create_athena ? 1 : 0
  name        = local.athena_database
  description = "eventkeeper: Kubernetes Events of ${var.cluster_name}"
  tags        = var.tags
}

resource "aws_glue_catalog_table" "events" {
  count         = var.create_athena ? 1 : 0
  name          = var.athena_table_name
  database_name = aws_glue_catalog_database.events[0].name
  description   = "Kubernetes Event observations (eventkeeper schema v1) archived by the catch-up"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "classification"                    = "json"
    "compressionType"                   = "gzip"
    "projection.enabled"                = "true"
    "projection.archive_cluster.type"   = "enum"
    "projection.archive_cluster.values" = var.cluster_name
    "projection.dt.type"                = "date"
    "projection.dt.format"              = "yyyy-MM-dd"
    "projection.dt.range"               = "${var.athena_projection_start_date},NOW"
    "projection.dt.interval"            = "1"
    "projection.dt.interval.unit"       = "DAYS"
    "projection.hour.type"              = "integer"
    "projection.hour.range"             = "0,23"
    "projection.hour.digits"            = "2"
    "storage.location.template"         = "s3://${local.bucket_name}/${var.archive_prefix}/cluster=$${archive_cluster}/dt=$${dt}/hour=$${hour}"
  }

  partition_keys {
    name    = "archive_cluster"
    type    = "string"
    comment = "cluster=NAME in the key"
  }
  partition_keys {
    name    = "dt"
    type    = "string"
    comment = "dt=YYYY-MM-DD in the key: UTC day of the run's scheduled time"
  }
  partition_keys {
    name    = "hour"
    type    = "string"
    comment = "hour=HH in the key: UTC hour of the run's scheduled time"
  }

  storage_descriptor {
    location      = "s3://${local.bucket_name}/${var.archive_prefix}/"
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    compressed    = true

    ser_de_info {
      name                  = "json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        "ignore.malformed.json" = "true"
        "case.insensitive"      = "true"
        "dots.in.keys"          = "false"
      }
    }

    dynamic "columns" {
      for_each = local.athena_columns
      content {
        name = lower(columns.value[0])
        type = columns.value[1]
      }
    }
  }
}

resource "aws_athena_workgroup" "events" {
  count         = var.create_athena ? 1 : 0
  name          = local.name
  description   = "eventkeeper queries over the archive of ${var.cluster_name}"
  force_destroy = true

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true

    result_configuration {
      output_location = "s3://${local.bucket_name}/${var.athena_results_prefix}/"
      encryption_configuration {
        encryption_option = var.kms_key_arn == null ? "SSE_S3" : "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}
