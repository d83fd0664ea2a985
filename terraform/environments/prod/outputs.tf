# Only what someone reads: operator_config (pnpm etl --env, the runbooks) and the values the
# deploy steps of terraform/README.md use.

output "operator_config" {
  description = "Everything operator tools need, as one object (the same JSON as the SSM parameter /covid-etl/<environment>/operator-config)."
  value       = module.pipeline.operator_config
}

output "notifications_topic_arn" {
  description = "ARN of the run notifications SNS topic."
  value       = module.pipeline.notifications_topic_arn
}

output "slack_webhook_parameter_name" {
  description = "SSM SecureString parameter to put the Slack webhook URL in."
  value       = module.pipeline.slack_webhook_parameter_name
}

output "notifications_kms_key_alias_name" {
  description = "Alias of the KMS key of the Slack webhook parameter (use it as --key-id)."
  value       = module.pipeline.notifications_kms_key_alias_name
}

output "dashboard_function_url" {
  description = "URL of the dashboard (Lambda function URL)."
  value       = module.pipeline.dashboard_function_url
}
