variable "name" {
  description = "Name of the work queue; its dead-letter queue is named \"<name>-dlq\". Up to 76 characters (the DLQ name must fit in 80): letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name must be 1 to 76 characters from A-Z, a-z, 0-9, - and _."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the work queue, in seconds. An integer from 0 to 43200 (12 hours). For a Lambda consumer it must be at least 6 x the function timeout + the batching window (the lambda-function module enforces it)."
  type        = number

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be an integer from 0 to 43200."
  }
}

variable "message_retention_seconds" {
  description = "How long the work queue keeps a message, in seconds. An integer from 60 (1 minute) to 1209600 (14 days); must be shorter than dlq_message_retention_seconds."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600 && floor(var.message_retention_seconds) == var.message_retention_seconds
    error_message = "message_retention_seconds must be an integer from 60 to 1209600."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long the dead-letter queue keeps a message, in seconds. An integer from 60 to 1209600 (14 days, the default), greater than message_retention_seconds: a standard queue keeps the original enqueue time when it moves a message to its DLQ."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600 && floor(var.dlq_message_retention_seconds) == var.dlq_message_retention_seconds
    error_message = "dlq_message_retention_seconds must be an integer from 60 to 1209600."
  }

  validation {
    condition     = var.dlq_message_retention_seconds > var.message_retention_seconds
    error_message = "dlq_message_retention_seconds must be greater than message_retention_seconds, or messages expire in the DLQ before anyone sees them."
  }
}

variable "max_receive_count" {
  description = "Receives after which a message moves to the DLQ (maxReceiveCount). An integer from 5 to 1000 (AWS allows 1 to 1000; below 5, Lambda throttling alone can dead-letter messages)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 5 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be an integer from 5 to 1000."
  }
}

variable "receive_wait_time_seconds" {
  description = "Long-polling wait of ReceiveMessage, in seconds. An integer from 0 to 20."
  type        = number
  default     = 20

  validation {
    condition     = var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20 && floor(var.receive_wait_time_seconds) == var.receive_wait_time_seconds
    error_message = "receive_wait_time_seconds must be an integer from 0 to 20."
  }
}

variable "max_message_size" {
  description = "Largest message body in bytes. An integer from 1024 to 262144 (the AWS provider 5.x cap, although SQS now accepts 1 MiB)."
  type        = number
  default     = 262144

  validation {
    condition     = var.max_message_size >= 1024 && var.max_message_size <= 262144
    error_message = "max_message_size must be from 1024 to 262144."
  }
}

variable "oldest_message_age_alarm_threshold_seconds" {
  description = "The age alarm fires when the oldest message of the work queue is older than this, in seconds, and no message was deleted (consumed) in the alarm period. An integer from 60 to 1209600."
  type        = number
  default     = 1800

  validation {
    condition     = var.oldest_message_age_alarm_threshold_seconds >= 60 && var.oldest_message_age_alarm_threshold_seconds <= 1209600
    error_message = "oldest_message_age_alarm_threshold_seconds must be from 60 to 1209600."
  }
}

variable "oldest_message_age_alarm_max_seconds" {
  description = "The age alarm also fires when the oldest message is older than this, in seconds, even while messages are consumed (a backlog that drains far too slowly). An integer from oldest_message_age_alarm_threshold_seconds to 1209600; above the longest drain expected (a full counties backfill, see the pipeline module's README)."
  type        = number
  default     = 14400

  validation {
    condition     = var.oldest_message_age_alarm_max_seconds >= var.oldest_message_age_alarm_threshold_seconds && var.oldest_message_age_alarm_max_seconds <= 1209600
    error_message = "oldest_message_age_alarm_max_seconds must be from oldest_message_age_alarm_threshold_seconds to 1209600."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the oldest-message-age alarm, in seconds: one of 60, 300, 900, 3600."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be one of 60, 300, 900, 3600."
  }
}

variable "alarm_actions" {
  description = "ARNs notified by both alarms (DLQ depth and oldest message age), usually the alerts SNS topic. 1 to 5 ARNs."
  type        = list(string)

  validation {
    condition     = length(var.alarm_actions) >= 1 && length(var.alarm_actions) <= 5
    error_message = "alarm_actions must hold 1 to 5 ARNs."
  }
}

variable "account_id" {
  description = "AWS account id (12 digits); used to build the queue ARNs before they exist, so policies are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the queues, for example us-east-1."
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

variable "create_queue_policy" {
  description = "Whether the module writes the work queue's policy (deny every request not sent over TLS). false when the caller writes the policy itself (an EventBridge rule's target): it must then deny aws:SecureTransport = false too."
  type        = bool
  default     = true
}
