variable "name" {
  description = "Name of the dead-letter queue. Up to 80 characters: letters, digits, hyphens and underscores (a standard queue, no .fifo)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.name))
    error_message = "name must be 1 to 80 characters from A-Z, a-z, 0-9, - and _."
  }
}

variable "message_retention_seconds" {
  description = "How long the queue keeps a message, in seconds. An integer from 60 (1 minute) to 1209600 (14 days). Keep the maximum: a DLQ is where failures wait for a person."
  type        = number
  default     = 1209600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600 && floor(var.message_retention_seconds) == var.message_retention_seconds
    error_message = "message_retention_seconds must be an integer from 60 to 1209600."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when the queue holds a message (ALARM) and when it is empty again (OK), usually the alerts SNS topic. At most 5."
  type        = list(string)

  validation {
    condition     = length(var.alarm_actions) >= 1 && length(var.alarm_actions) <= 5
    error_message = "alarm_actions must hold 1 to 5 ARNs: a DLQ nobody hears about is a silent failure."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the depth alarm, in seconds. SQS publishes its metrics every 60 seconds: one of 60, 300, 900, 3600."
  type        = number
  default     = 60

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be one of 60, 300, 900, 3600."
  }
}

variable "account_id" {
  description = "AWS account id (12 digits) the queue lives in; used to build its ARN before it exists, so policies are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the queue, for example us-east-1."
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

variable "create_policy" {
  description = "Whether the module writes the queue's policy (deny every request not sent over TLS). false when the caller writes the policy itself: it must then deny aws:SecureTransport = false too."
  type        = bool
  default     = true
}
