terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "filename" {
  description = "Path of the function's zip, e.g. ../../../../../services/loader/dist/loader.zip (run pnpm build first)."
  type        = string
}

resource "aws_sns_topic" "alerts" {
  name              = "example-alerts"
  kms_master_key_id = "alias/aws/sns"
}

module "queue" {
  source = "../../../queue"

  name                       = "example-loader"
  visibility_timeout_seconds = 360
  alarm_actions              = [aws_sns_topic.alerts.arn]
  account_id                 = "123456789012"
  region                     = "us-east-1"
}

# An SQS consumer: partial batch failures, at most 2 concurrent batches, reads one table.
module "function" {
  source = "../.."

  name                  = "example-loader"
  filename              = var.filename
  timeout               = 60
  environment_variables = { DATA_TABLE = "example-data" }
  policy_statements = [
    {
      sid       = "WriteData"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/example-data"]
    },
  ]
  sqs_event_source = {
    queue_arn                          = module.queue.queue_arn
    queue_visibility_timeout_seconds   = module.queue.visibility_timeout_seconds
    batch_size                         = 5
    maximum_batching_window_in_seconds = 0
    maximum_concurrency                = 2
  }
  alarm_actions = [aws_sns_topic.alerts.arn]
  account_id    = "123456789012"
  region        = "us-east-1"
}

output "function_name" {
  description = "Name of the function."
  value       = module.function.function_name
}
