output "environment_name" {
  description = "Environment name."
  value       = var.environment
}

output "region_name" {
  description = "AWS region of the environment."
  value       = var.region
}

output "data_table_name" {
  description = "Name of the data table (pk = US, sk = YYYY-MM-DD)."
  value       = module.data_table.table_name
}

output "data_table_arn" {
  description = "ARN of the data table."
  value       = module.data_table.table_arn
}

output "ledger_table_name" {
  description = "Name of the run ledger table."
  value       = module.ledger_table.table_name
}

output "ledger_table_arn" {
  description = "ARN of the run ledger table."
  value       = module.ledger_table.table_arn
}

output "transformer_queue_name" {
  description = "Name of the transformer work queue."
  value       = module.queues["transformer"].queue_name
}

output "transformer_queue_url" {
  description = "URL of the transformer work queue."
  value       = module.queues["transformer"].queue_url
}

output "transformer_queue_arn" {
  description = "ARN of the transformer work queue."
  value       = module.queues["transformer"].queue_arn
}

output "transformer_dlq_name" {
  description = "Name of the transformer dead-letter queue."
  value       = module.queues["transformer"].dlq_name
}

output "transformer_dlq_url" {
  description = "URL of the transformer dead-letter queue."
  value       = module.queues["transformer"].dlq_url
}

output "transformer_dlq_arn" {
  description = "ARN of the transformer dead-letter queue."
  value       = module.queues["transformer"].dlq_arn
}

output "loader_queue_name" {
  description = "Name of the loader work queue."
  value       = module.queues["loader"].queue_name
}

output "loader_queue_url" {
  description = "URL of the loader work queue."
  value       = module.queues["loader"].queue_url
}

output "loader_queue_arn" {
  description = "ARN of the loader work queue."
  value       = module.queues["loader"].queue_arn
}

output "loader_dlq_name" {
  description = "Name of the loader dead-letter queue."
  value       = module.queues["loader"].dlq_name
}

output "loader_dlq_url" {
  description = "URL of the loader dead-letter queue."
  value       = module.queues["loader"].dlq_url
}

output "loader_dlq_arn" {
  description = "ARN of the loader dead-letter queue."
  value       = module.queues["loader"].dlq_arn
}

output "notifier_queue_name" {
  description = "Name of the notifier work queue."
  value       = module.queues["notifier"].queue_name
}

output "notifier_queue_url" {
  description = "URL of the notifier work queue."
  value       = module.queues["notifier"].queue_url
}

output "notifier_queue_arn" {
  description = "ARN of the notifier work queue."
  value       = module.queues["notifier"].queue_arn
}

output "notifier_dlq_name" {
  description = "Name of the notifier dead-letter queue."
  value       = module.queues["notifier"].dlq_name
}

output "notifier_dlq_url" {
  description = "URL of the notifier dead-letter queue."
  value       = module.queues["notifier"].dlq_url
}

output "notifier_dlq_arn" {
  description = "ARN of the notifier dead-letter queue."
  value       = module.queues["notifier"].dlq_arn
}

output "events_dlq_url" {
  description = "URL of the dead-letter queue of the run-outcome rule's target (events it could not deliver)."
  value       = module.events.dlq_url
}

output "events_dlq_arn" {
  description = "ARN of the dead-letter queue of the run-outcome rule's target (events it could not deliver)."
  value       = module.events.dlq_arn
}

output "fetcher_schedule_dlq_url" {
  description = "URL of the dead-letter queue of the fetcher schedule (invocations that failed)."
  value       = module.fetcher_schedule.dlq_url
}

output "fetcher_schedule_dlq_arn" {
  description = "ARN of the dead-letter queue of the fetcher schedule (invocations that failed)."
  value       = module.fetcher_schedule.dlq_arn
}

output "watchdog_schedule_dlq_url" {
  description = "URL of the dead-letter queue of the watchdog schedule (invocations that failed)."
  value       = module.watchdog_schedule.dlq_url
}

output "watchdog_schedule_dlq_arn" {
  description = "ARN of the dead-letter queue of the watchdog schedule (invocations that failed)."
  value       = module.watchdog_schedule.dlq_arn
}

output "async_dlq_url" {
  description = "URL of the dead-letter queue of asynchronous invocations (fetcher, watchdog, slack-forwarder) that failed after Lambda's retries."
  value       = module.async_dlq.queue_url
}

output "async_dlq_arn" {
  description = "ARN of that dead-letter queue."
  value       = module.async_dlq.queue_arn
}

output "event_bus_name" {
  description = "Name of the EventBridge bus."
  value       = module.events.bus_name
}

output "event_bus_arn" {
  description = "ARN of the EventBridge bus."
  value       = module.events.bus_arn
}

output "run_outcome_rule_name" {
  description = "Name of the rule that routes run outcomes to the notifier queue."
  value       = module.events.rule_name
}

output "run_outcome_rule_event_pattern" {
  description = "Event pattern of that rule (JSON)."
  value       = jsonencode(local.run_outcome_event_pattern)
}

output "notifications_topic_arn" {
  description = "ARN of the run notifications SNS topic."
  value       = module.notifications.notifications_topic_arn
}

output "alerts_topic_arn" {
  description = "ARN of the alerts SNS topic (every CloudWatch alarm)."
  value       = module.notifications.alerts_topic_arn
}

output "slack_webhook_parameter_name" {
  description = "SSM SecureString parameter to put the Slack webhook URL in."
  value       = module.notifications.slack_webhook_parameter_name
}

output "notifications_kms_key_alias_name" {
  description = "Alias of the KMS key of the alerts topic and the Slack webhook parameter (use it as --key-id)."
  value       = module.notifications.kms_key_alias_name
}

output "fetcher_function_name" {
  description = "Name of the fetcher Lambda function."
  value       = module.fetcher.function_name
}

output "fetcher_function_arn" {
  description = "ARN of the fetcher Lambda function."
  value       = module.fetcher.function_arn
}

output "fetcher_log_group_name" {
  description = "Log group of the fetcher Lambda function."
  value       = module.fetcher.log_group_name
}

output "transformer_function_name" {
  description = "Name of the transformer Lambda function."
  value       = module.queue_consumers["transformer"].function_name
}

output "transformer_function_arn" {
  description = "ARN of the transformer Lambda function."
  value       = module.queue_consumers["transformer"].function_arn
}

output "transformer_log_group_name" {
  description = "Log group of the transformer Lambda function."
  value       = module.queue_consumers["transformer"].log_group_name
}

output "loader_function_name" {
  description = "Name of the loader Lambda function."
  value       = module.queue_consumers["loader"].function_name
}

output "loader_function_arn" {
  description = "ARN of the loader Lambda function."
  value       = module.queue_consumers["loader"].function_arn
}

output "loader_log_group_name" {
  description = "Log group of the loader Lambda function."
  value       = module.queue_consumers["loader"].log_group_name
}

output "notifier_function_name" {
  description = "Name of the notifier Lambda function."
  value       = module.queue_consumers["notifier"].function_name
}

output "notifier_function_arn" {
  description = "ARN of the notifier Lambda function."
  value       = module.queue_consumers["notifier"].function_arn
}

output "notifier_log_group_name" {
  description = "Log group of the notifier Lambda function."
  value       = module.queue_consumers["notifier"].log_group_name
}

output "slack_forwarder_function_name" {
  description = "Name of the slack-forwarder Lambda function."
  value       = module.slack_forwarder.function_name
}

output "slack_forwarder_function_arn" {
  description = "ARN of the slack-forwarder Lambda function."
  value       = module.slack_forwarder.function_arn
}

output "slack_forwarder_log_group_name" {
  description = "Log group of the slack-forwarder Lambda function."
  value       = module.slack_forwarder.log_group_name
}

output "watchdog_function_name" {
  description = "Name of the watchdog Lambda function."
  value       = module.watchdog.function_name
}

output "watchdog_function_arn" {
  description = "ARN of the watchdog Lambda function."
  value       = module.watchdog.function_arn
}

output "watchdog_log_group_name" {
  description = "Log group of the watchdog Lambda function."
  value       = module.watchdog.log_group_name
}

output "dashboard_function_name" {
  description = "Name of the dashboard Lambda function."
  value       = module.dashboard.function_name
}

output "dashboard_function_arn" {
  description = "ARN of the dashboard Lambda function."
  value       = module.dashboard.function_arn
}

output "dashboard_log_group_name" {
  description = "Log group of the dashboard Lambda function."
  value       = module.dashboard.log_group_name
}

output "dashboard_function_url" {
  description = "URL of the dashboard (Lambda function URL)."
  value       = module.dashboard.function_url
}

output "fetcher_schedule_name" {
  description = "Name of the daily fetcher schedule."
  value       = module.fetcher_schedule.schedule_name
}

output "watchdog_schedule_name" {
  description = "Name of the watchdog schedule."
  value       = module.watchdog_schedule.schedule_name
}

output "operator_config" {
  description = "Everything operator tools need, as one object: environment, region, tables, queues (url, arn, dlq_url, dlq_arn), dead_letter_queues, event_bus_name, topic_arns, functions, dashboard_url, slack_webhook_parameter."
  value       = local.operator_config
}

output "operator_config_parameter_name" {
  description = "SSM String parameter holding operator_config as JSON."
  value       = aws_ssm_parameter.operator_config.name
}
