output "notifications_topic_name" {
  description = "Name of the notifications topic (run outcomes)."
  value       = aws_sns_topic.notifications.name
}

output "notifications_topic_arn" {
  description = "ARN of the notifications topic, known at plan time."
  value       = local.notifications_topic_arn
  depends_on  = [aws_sns_topic.notifications]
}

output "alerts_topic_name" {
  description = "Name of the alerts topic (CloudWatch alarms)."
  value       = aws_sns_topic.alerts.name
}

output "alerts_topic_arn" {
  description = "ARN of the alerts topic, known at plan time: use it as alarm_actions."
  value       = local.alerts_topic_arn
  depends_on  = [aws_sns_topic.alerts, aws_sns_topic_policy.this]
}

output "kms_key_arn" {
  description = "ARN of the customer managed key of the alerts topic and the Slack webhook parameter (known after apply)."
  value       = aws_kms_key.this.arn
}

output "kms_key_alias_name" {
  description = "Alias of that key, alias/<name_prefix>-notifications."
  value       = aws_kms_alias.this.name
}

output "slack_webhook_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the Slack webhook URL."
  value       = aws_ssm_parameter.slack_webhook.name
}

output "slack_webhook_parameter_arn" {
  description = "ARN of that parameter, known at plan time."
  value       = local.parameter_arn
  depends_on  = [aws_ssm_parameter.slack_webhook]
}

output "slack_webhook_reader_policy_statements" {
  description = "IAM statements (the lambda-function module's policy_statements shape) that let a function read and decrypt the webhook parameter and nothing else: ssm:GetParameter on the parameter, kms:Decrypt only through SSM for that parameter's encryption context."
  value = [
    {
      sid        = "ReadSlackWebhookParameter"
      actions    = ["ssm:GetParameter"]
      resources  = [local.parameter_arn]
      conditions = []
    },
    {
      # SSM encrypts SecureStrings with PARAMETER_ARN in the encryption context: this
      # pins Decrypt to this one parameter, whichever key the operator used to write it.
      sid       = "DecryptSlackWebhookParameter"
      actions   = ["kms:Decrypt"]
      resources = ["arn:${var.partition}:kms:${var.region}:${var.account_id}:key/*"]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${var.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:PARAMETER_ARN", values = [local.parameter_arn] },
      ]
    },
  ]
}

output "chatbot_configuration_arn" {
  description = "ARN of the AWS Chatbot Slack channel configuration, or null when none is configured."
  value       = try(aws_chatbot_slack_channel_configuration.this[0].chat_configuration_arn, null)
}
