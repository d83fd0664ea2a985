variable "account_id" {
  description = "AWS account id (12 digits) of this environment; the provider refuses any other account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of this environment, for example us-east-1."
  type        = string
}

variable "log_retention_in_days" {
  description = "Retention of the functions' log groups, in days (a CloudWatch Logs value such as 14, 30, 90, 365)."
  type        = number
}

variable "log_level" {
  description = "Log level of the functions: TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  type        = string
}

variable "reserved_concurrency" {
  description = "Reserved concurrency by function key (fetcher, transformer, loader, notifier, slack-forwarder, watchdog, dashboard); missing keys reserve nothing."
  type        = map(number)
  default     = {}
}

variable "stall_after_minutes" {
  description = "Minutes after its start at which the watchdog reports an unfinished run as stalled (5 to 1440)."
  type        = number
}

variable "dashboard_auth_type" {
  description = "Auth type of the dashboard's function URL: AWS_IAM or NONE (public)."
  type        = string
}

variable "fetcher_schedule_expression" {
  description = "Daily cron expression of the fetcher schedule, for example cron(0 0 * * ? *)."
  type        = string
}

variable "fetcher_schedule_timezone" {
  description = "IANA time zone of the fetcher schedule, for example UTC."
  type        = string
}

variable "deletion_protection_enabled" {
  description = "Deletion protection of the DynamoDB tables (true in production)."
  type        = bool
}

variable "event_archive_retention_days" {
  description = "Days the EventBridge archive keeps events (0 = forever)."
  type        = number
}

variable "email_addresses" {
  description = "Addresses that receive run notifications (and alerts unless alert_email_addresses is set); each must confirm its subscription."
  type        = list(string)
}

variable "alert_email_addresses" {
  description = "Addresses that receive CloudWatch alarms, or null to use email_addresses."
  type        = list(string)
  default     = null
}

variable "slack_team_id" {
  description = "Slack workspace id for the optional AWS Chatbot channel on the alerts topic; null for none."
  type        = string
  default     = null
}

variable "slack_channel_id" {
  description = "Slack channel id for the optional AWS Chatbot channel on the alerts topic; null for none."
  type        = string
  default     = null
}

variable "alarm_thresholds" {
  description = "Alarm thresholds: lambda_errors and lambda_throttles per 5 minutes, queue_oldest_message_age_seconds."
  type = object({
    lambda_errors                    = number
    lambda_throttles                 = number
    queue_oldest_message_age_seconds = number
  })
}
