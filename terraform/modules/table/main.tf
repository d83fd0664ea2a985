# An on-demand DynamoDB table: point-in-time recovery, server-side encryption (KMS) and
# deletion protection switchable per environment.

locals {
  arn = "arn:${var.partition}:dynamodb:${var.region}:${var.account_id}:table/${var.name}"
}

################################################################################
# Table
################################################################################

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.hash_key
  range_key                   = var.range_key
  deletion_protection_enabled = var.deletion_protection_enabled

  dynamic "attribute" {
    for_each = var.attributes

    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes

    content {
      name               = global_secondary_index.value.name
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.non_key_attributes
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.arn
      error_message = "The table's ARN ${self.arn} differs from the one built for policies (${local.arn})."
    }
  }
}
