output "queue_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.this.name
}

output "queue_url" {
  description = "URL of the dead-letter queue, known at plan time (built from the name) and available once the queue exists."
  value       = local.url
  depends_on  = [aws_sqs_queue.this]
}

output "queue_arn" {
  description = "ARN of the dead-letter queue, known at plan time (built from the name) and available once the queue exists."
  value       = local.arn
  depends_on  = [aws_sqs_queue.this]
}

output "depth_alarm_name" {
  description = "Name of the CloudWatch alarm on the queue's ApproximateNumberOfMessagesVisible > 0."
  value       = aws_cloudwatch_metric_alarm.depth.alarm_name
}
