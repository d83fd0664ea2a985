output "schedule_name" {
  description = "Name of the schedule."
  value       = aws_scheduler_schedule.this.name
}

output "schedule_arn" {
  description = "ARN of the schedule, known at plan time."
  value       = local.schedule_arn
  depends_on  = [aws_scheduler_schedule.this]
}

output "role_arn" {
  description = "ARN of the schedule's own IAM role, known at plan time."
  value       = local.role_arn
  depends_on  = [aws_iam_role.this]
}

output "dlq_name" {
  description = "Name of the schedule's dead-letter queue."
  value       = module.dlq.queue_name
}

output "dlq_url" {
  description = "URL of the schedule's dead-letter queue, known at plan time."
  value       = module.dlq.queue_url
}

output "dlq_arn" {
  description = "ARN of the schedule's dead-letter queue, known at plan time."
  value       = module.dlq.queue_arn
}
