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

module "notifier_queue" {
  source = "../../../queue"

  name                       = "example-notifier"
  visibility_timeout_seconds = 180
  alarm_actions              = [aws_sns_topic.alerts.arn]
  account_id                 = "123456789012"
  region                     = "us-east-1"
}

# A bus whose run-outcome events go to the notifier queue.
module "events" {
  source = "../.."

  bus_name  = "example"
  rule_name = "example-run-outcome"
  event_pattern = jsonencode({
    source        = ["covid-etl.pipeline"]
    "detail-type" = ["EtlRunCompleted", "EtlRunFailed"]
  })
  target_queue_arn = module.notifier_queue.queue_arn
  target_queue_url = module.notifier_queue.queue_url
  dlq_name         = "example-events-dlq"
  alarm_actions    = [aws_sns_topic.alerts.arn]
  account_id       = "123456789012"
  region           = "us-east-1"
}

output "bus_name" {
  description = "Name of the bus."
  value       = module.events.bus_name
}
