# What the environment roots pass on: operator_config for operator tools, and the few values
# the deploy steps of terraform/README.md read.

output "operator_config" {
  description = "Everything operator tools need, as one object: environment, region, tables, queues (url, arn, dlq_url, dlq_arn), dead_letter_queues, event_bus_name, topic_arns, functions, dashboard_url, slack_webhook_parameter. Also written to the SSM String parameter /covid-etl/<environment>/operator-config."
  value       = local.operator_config
}

output "notifications_topic_arn" {
  description = "ARN of the run notifications SNS topic (deploy step: check the email subscriptions)."
  value       = module.notifications.notifications_topic_arn
}

output "slack_webhook_parameter_name" {
  description = "SSM SecureString parameter to put the Slack webhook URL in (deploy step: set the Slack webhook)."
  value       = module.notifications.slack_webhook_parameter_name
}

output "notifications_kms_key_alias_name" {
  description = "Alias of the KMS key of the alerts topic and the Slack webhook parameter (deploy step: its --key-id)."
  value       = module.notifications.kms_key_alias_name
}

output "dashboard_function_url" {
  description = "URL of the dashboard (Lambda function URL)."
  value       = module.functions["dashboard"].function_url
}
