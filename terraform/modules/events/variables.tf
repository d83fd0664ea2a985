variable "bus_name" {
  description = "Name of the custom EventBridge bus. 1 to 256 characters: letters, digits, . - _ (not \"default\")."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,256}$", var.bus_name)) && var.bus_name != "default"
    error_message = "bus_name must be 1 to 256 characters from A-Z, a-z, 0-9, ., -, _ and not \"default\"."
  }
}

variable "archive_retention_days" {
  description = "Days the archive keeps the bus's events for replay. An integer >= 0; 0 keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.archive_retention_days >= 0 && floor(var.archive_retention_days) == var.archive_retention_days
    error_message = "archive_retention_days must be an integer >= 0."
  }
}

variable "rule_name" {
  description = "Name of the rule that routes matching events to the target queue. 1 to 64 characters: letters, digits, . - _."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.rule_name))
    error_message = "rule_name must be 1 to 64 characters from A-Z, a-z, 0-9, ., -, _."
  }
}

variable "event_pattern" {
  description = "Event pattern of the rule, as a JSON string (for example jsonencode({ source = [...], \"detail-type\" = [...] }))."
  type        = string

  validation {
    condition     = can(jsondecode(var.event_pattern))
    error_message = "event_pattern must be valid JSON."
  }
}

variable "target_queue_arn" {
  description = "ARN of the SQS queue the rule sends matching events to (standard queue, SSE-SQS or no encryption: EventBridge cannot use the AWS managed SQS KMS key)."
  type        = string
}

variable "target_queue_url" {
  description = "URL of the same queue: the module replaces its queue policy with one that lets only this rule send."
  type        = string
}

variable "retry_maximum_event_age_in_seconds" {
  description = "How long EventBridge retries delivering an event to the target, in seconds. An integer from 60 to 86400."
  type        = number
  default     = 3600

  validation {
    condition     = var.retry_maximum_event_age_in_seconds >= 60 && var.retry_maximum_event_age_in_seconds <= 86400
    error_message = "retry_maximum_event_age_in_seconds must be from 60 to 86400."
  }
}

variable "retry_maximum_attempts" {
  description = "How many times EventBridge retries delivering an event to the target. An integer from 0 to 185."
  type        = number
  default     = 24

  validation {
    condition     = var.retry_maximum_attempts >= 0 && var.retry_maximum_attempts <= 185
    error_message = "retry_maximum_attempts must be from 0 to 185."
  }
}

variable "dlq_name" {
  description = "Name of the dead-letter queue for events the target could not receive after the retries."
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
  description = "AWS account id (12 digits); used to build the bus and rule ARNs before they exist, so policies are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the bus, for example us-east-1."
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
  description = "Tags for every resource of the module (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
}
