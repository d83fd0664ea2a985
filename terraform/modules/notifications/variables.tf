variable "name_prefix" {
  description = "Prefix of every name, for example covid-etl-dev: topics <prefix>-notifications and <prefix>-alerts, key alias alias/<prefix>-notifications."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 200 characters from A-Z, a-z, 0-9, - and _."
  }
}

variable "email_addresses" {
  description = "Addresses subscribed to the notifications topic (run outcomes). Each must confirm the subscription from the email AWS sends; a pending subscription cannot be removed by Terraform."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Every entry of email_addresses must be an email address."
  }
}

variable "alert_email_addresses" {
  description = "Addresses subscribed to the alerts topic (CloudWatch alarms), or null to use email_addresses."
  type        = list(string)
  default     = null

  validation {
    condition     = var.alert_email_addresses == null ? true : alltrue([for e in var.alert_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Every entry of alert_email_addresses must be an email address."
  }
}

variable "notifications_topic_kms_key_id" {
  description = "KMS key of the notifications topic: an alias, key id or ARN. The AWS managed alias/aws/sns is enough because only the notifier Lambda (an IAM principal of the account) publishes to it."
  type        = string
  default     = "alias/aws/sns"

  validation {
    condition     = length(var.notifications_topic_kms_key_id) > 0
    error_message = "notifications_topic_kms_key_id must not be empty: the topic is always encrypted."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the module's customer managed key (alerts topic, Slack webhook parameter) is deleted. An integer from 7 to 30."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be from 7 to 30."
  }
}

variable "lambda_subscriber_arn" {
  description = "ARN of a Lambda function (the Slack forwarder) subscribed to both topics, or null for none. The module adds the permission that lets each topic invoke it."
  type        = string
  default     = null
}

variable "slack_webhook_parameter_name" {
  description = "Name of the SSM SecureString parameter that holds the Slack incoming-webhook URL, starting with / (for example /covid-etl/dev/slack-webhook-url). Terraform creates it with a placeholder through a write-only argument; the operator sets the real URL, which never enters the Terraform state or plan."
  type        = string

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]{1,1000}$", var.slack_webhook_parameter_name))
    error_message = "slack_webhook_parameter_name must start with / and use only A-Z, a-z, 0-9, _, ., / and -."
  }
}

variable "slack_team_id" {
  description = "Slack workspace (team) id for an optional AWS Chatbot channel configuration on the alerts topic, for example T0123ABCD; null for none. The workspace must first be authorized once in the Chatbot console."
  type        = string
  default     = null
}

variable "slack_channel_id" {
  description = "Slack channel id for the optional AWS Chatbot channel configuration, for example C0123ABCD; null for none. Both slack_team_id and slack_channel_id are needed."
  type        = string
  default     = null
}

variable "account_id" {
  description = "AWS account id (12 digits); used to build ARNs (topics, parameter) before they exist, so policies are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the topics, for example us-east-1."
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
