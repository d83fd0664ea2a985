variable "name" {
  description = "Name of the schedule; its IAM role is <name>-schedule. 1 to 55 characters (the role name must fit in 64): letters, digits, . - _."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,55}$", var.name))
    error_message = "name must be 1 to 55 characters from A-Z, a-z, 0-9, ., -, _."
  }
}

variable "description" {
  description = "What the schedule does. Up to 512 characters."
  type        = string
  default     = ""
}

variable "group_name" {
  description = "Schedule group the schedule belongs to (\"default\" or a group you created)."
  type        = string
  default     = "default"
}

variable "schedule_expression" {
  description = "When the schedule fires: cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss). The default is daily at 00:00."
  type        = string
  default     = "cron(0 0 * * ? *)"

  validation {
    condition     = can(regex("^(cron\\([^)]+\\)|rate\\([0-9]+ (minute|minutes|hour|hours|day|days)\\)|at\\([0-9T:-]+\\))$", var.schedule_expression))
    error_message = "schedule_expression must be cron(...), rate(<n> minute(s)|hour(s)|day(s)) or at(yyyy-mm-ddThh:mm:ss)."
  }
}

variable "schedule_expression_timezone" {
  description = "IANA time zone of the cron expression, for example UTC or Europe/Berlin. Always set, so a reader never has to guess."
  type        = string
  default     = "UTC"

  validation {
    condition     = length(var.schedule_expression_timezone) > 0
    error_message = "schedule_expression_timezone must not be empty."
  }
}

variable "state" {
  description = "ENABLED or DISABLED."
  type        = string
  default     = "ENABLED"

  validation {
    condition     = contains(["ENABLED", "DISABLED"], var.state)
    error_message = "state must be ENABLED or DISABLED."
  }
}

variable "function_arn" {
  description = "ARN of the Lambda function the schedule invokes (asynchronously). The schedule's role may invoke only this function."
  type        = string
}

variable "input" {
  description = "JSON the function receives. Scheduler replaces <aws.scheduler.scheduled-time> with the time the schedule fired for (ISO 8601), and <aws.scheduler.execution-id> with the execution id."
  type        = string
  default     = "{\"trigger\":\"schedule\",\"scheduledTime\":\"<aws.scheduler.scheduled-time>\"}"

  validation {
    condition     = can(jsondecode(var.input))
    error_message = "input must be valid JSON."
  }
}

variable "retry_maximum_attempts" {
  description = "How many times Scheduler retries a failed invocation (throttling, service errors). An integer from 0 to 185."
  type        = number
  default     = 3

  validation {
    condition     = var.retry_maximum_attempts >= 0 && var.retry_maximum_attempts <= 185
    error_message = "retry_maximum_attempts must be from 0 to 185."
  }
}

variable "retry_maximum_event_age_in_seconds" {
  description = "How long Scheduler keeps retrying an invocation, in seconds. An integer from 60 to 86400."
  type        = number
  default     = 3600

  validation {
    condition     = var.retry_maximum_event_age_in_seconds >= 60 && var.retry_maximum_event_age_in_seconds <= 86400
    error_message = "retry_maximum_event_age_in_seconds must be from 60 to 86400."
  }
}

variable "dlq_name" {
  description = "Name of the dead-letter queue for invocations that still fail after the retries."
  type        = string
}

variable "alarm_actions" {
  description = "ARNs notified by the DLQ depth alarm, usually the alerts SNS topic. 1 to 5 ARNs."
  type        = list(string)

  validation {
    condition     = length(var.alarm_actions) >= 1 && length(var.alarm_actions) <= 5
    error_message = "alarm_actions must hold 1 to 5 ARNs."
  }
}

variable "account_id" {
  description = "AWS account id (12 digits); used to build ARNs (schedule, role) before they exist, so policies are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the schedule, for example us-east-1."
  type        = string
}

variable "partition" {
  description = "AWS partition: aws, aws-cn or aws-us-gov."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be one of aws, aws-cn, aws-us-gov."
  }
}

variable "tags" {
  description = "Tags for the role and the DLQ (Scheduler schedules take no tags; the provider's default_tags are added)."
  type        = map(string)
  default     = {}
}
