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

# Topics, email subscriptions and the Slack webhook parameter, without a Slack forwarder
# or Chatbot channel.
module "notifications" {
  source = "../.."

  name_prefix                  = "example"
  email_addresses              = ["team@example.com"]
  slack_webhook_parameter_name = "/example/slack-webhook-url"
  account_id                   = "123456789012"
  region                       = "us-east-1"
}

output "alerts_topic_arn" {
  description = "Use it as alarm_actions."
  value       = module.notifications.alerts_topic_arn
}
