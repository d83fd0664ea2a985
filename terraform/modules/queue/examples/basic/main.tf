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

# A work queue consumed by a Lambda with a 60 s timeout: visibility 360 s (6 x 60), 4 days
# retention, DLQ after 5 receives, alarms to an SNS topic.
resource "aws_sns_topic" "alerts" {
  name              = "example-alerts"
  kms_master_key_id = "alias/aws/sns"
}

module "queue" {
  source = "../.."

  name                                       = "example-loader"
  visibility_timeout_seconds                 = 360
  message_retention_seconds                  = 345600
  max_receive_count                          = 5
  oldest_message_age_alarm_threshold_seconds = 900
  alarm_actions                              = [aws_sns_topic.alerts.arn]
  account_id                                 = "123456789012"
  region                                     = "us-east-1"
}

output "queue_url" {
  description = "URL of the work queue."
  value       = module.queue.queue_url
}

output "dlq_url" {
  description = "URL of its DLQ."
  value       = module.queue.dlq_url
}
