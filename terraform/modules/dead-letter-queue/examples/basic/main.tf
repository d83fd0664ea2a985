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

# A standalone DLQ (for a rule target, a schedule or async invocations) with its depth alarm.
resource "aws_sns_topic" "alerts" {
  name              = "example-alerts"
  kms_master_key_id = "alias/aws/sns"
}

module "dlq" {
  source = "../.."

  name          = "example-schedule-dlq"
  alarm_actions = [aws_sns_topic.alerts.arn]
  account_id    = "123456789012"
  region        = "us-east-1"
}

output "dlq_arn" {
  description = "ARN of the DLQ."
  value       = module.dlq.queue_arn
}
