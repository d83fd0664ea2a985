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

resource "aws_sns_topic" "alerts" {
  name              = "example-alerts"
  kms_master_key_id = "alias/aws/sns"
}

# Invoke an existing function every day at 00:00 UTC with the scheduled time in the input.
module "schedule" {
  source = "../.."

  name          = "example-fetcher"
  function_arn  = "arn:aws:lambda:us-east-1:123456789012:function:example-fetcher"
  dlq_name      = "example-fetcher-schedule-dlq"
  alarm_actions = [aws_sns_topic.alerts.arn]
  account_id    = "123456789012"
  region        = "us-east-1"
}

output "schedule_arn" {
  description = "ARN of the schedule."
  value       = module.schedule.schedule_arn
}
