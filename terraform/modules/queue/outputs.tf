output "queue_name" {
  description = "Name of the work queue."
  value       = aws_sqs_queue.this.name
}

output "queue_url" {
  description = "URL of the work queue, known at plan time (built from the name) and available once the queue exists."
  value       = local.url
  depends_on  = [aws_sqs_queue.this]
}

output "queue_arn" {
  description = "ARN of the work queue, known at plan time (built from the name) and available once the queue exists."
  value       = local.arn
  depends_on  = [aws_sqs_queue.this]
}

output "visibility_timeout_seconds" {
  description = "Visibility timeout of the work queue, in seconds (to check a consumer's timeout against it)."
  value       = aws_sqs_queue.this.visibility_timeout_seconds
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = module.dlq.queue_name
}

output "dlq_url" {
  description = "URL of the dead-letter queue, known at plan time."
  value       = module.dlq.queue_url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue, known at plan time."
  value       = module.dlq.queue_arn
}

output "alarm_names" {
  description = "Names of the module's CloudWatch alarms: dlq_depth and oldest_message_age."
  value = {
    dlq_depth          = module.dlq.depth_alarm_name
    oldest_message_age = aws_cloudwatch_metric_alarm.oldest_message_age.alarm_name
  }
}
