output "bus_name" {
  description = "Name of the EventBridge bus."
  value       = aws_cloudwatch_event_bus.this.name
}

output "bus_arn" {
  description = "ARN of the EventBridge bus, known at plan time (built from the name)."
  value       = local.bus_arn
  depends_on  = [aws_cloudwatch_event_bus.this]
}

output "archive_name" {
  description = "Name of the bus's archive."
  value       = aws_cloudwatch_event_archive.this.name
}

output "rule_name" {
  description = "Name of the rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "ARN of the rule, known at plan time."
  value       = local.rule_arn
  depends_on  = [aws_cloudwatch_event_rule.this]
}

output "dlq_name" {
  description = "Name of the target's dead-letter queue."
  value       = module.dlq.queue_name
}

output "dlq_url" {
  description = "URL of the target's dead-letter queue, known at plan time."
  value       = module.dlq.queue_url
}

output "dlq_arn" {
  description = "ARN of the target's dead-letter queue, known at plan time."
  value       = module.dlq.queue_arn
}
