output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function, known at plan time (built from the name) and available once the function exists."
  value       = local.function_arn
  depends_on  = [aws_lambda_function.this]
}

output "function_timeout" {
  description = "Timeout of the function, in seconds."
  value       = aws_lambda_function.this.timeout
}

output "role_name" {
  description = "Name of the function's own IAM role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the function's own IAM role, known at plan time."
  value       = local.role_arn
  depends_on  = [aws_iam_role.this]
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "function_url" {
  description = "The function URL (known after apply), or null when no URL is configured."
  value       = try(aws_lambda_function_url.this[0].function_url, null)
}

output "event_source_mapping_uuid" {
  description = "UUID of the SQS event source mapping (known after apply), or null without one."
  value       = try(aws_lambda_event_source_mapping.sqs[0].uuid, null)
}

output "alarm_names" {
  description = "Names of the module's CloudWatch alarms: errors and throttles."
  value = {
    errors    = aws_cloudwatch_metric_alarm.errors.alarm_name
    throttles = aws_cloudwatch_metric_alarm.throttles.alarm_name
  }
}
