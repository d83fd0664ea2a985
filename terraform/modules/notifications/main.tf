# Who hears about the pipeline: the notifications topic (run outcomes, published by the
# notifier), the alerts topic (every CloudWatch alarm), their email subscriptions, the
# Slack forwarder subscribed to both, the SSM SecureString that holds the Slack webhook
# (never in Terraform state), and an optional AWS Chatbot channel on the alerts topic.

locals {
  notifications_topic_name = "${var.name_prefix}-notifications"
  alerts_topic_name        = "${var.name_prefix}-alerts"
  notifications_topic_arn  = "arn:${var.partition}:sns:${var.region}:${var.account_id}:${local.notifications_topic_name}"
  alerts_topic_arn         = "arn:${var.partition}:sns:${var.region}:${var.account_id}:${local.alerts_topic_name}"
  key_alias_name           = "alias/${var.name_prefix}-notifications"
  parameter_arn            = "arn:${var.partition}:ssm:${var.region}:${var.account_id}:parameter${var.slack_webhook_parameter_name}"
  alert_email_addresses    = var.alert_email_addresses == null ? var.email_addresses : var.alert_email_addresses
  create_chatbot           = var.slack_team_id != null && var.slack_channel_id != null

  # What the value of the parameter is until the operator sets the real webhook URL. The
  # Slack forwarder treats anything that is not an https URL as "Slack not configured".
  slack_webhook_placeholder = "not-configured"

  topics = {
    notifications = local.notifications_topic_arn
    alerts        = local.alerts_topic_arn
  }

  # The CloudWatch alarms of this environment (every alarm name starts with name_prefix).
  alarm_arn_pattern = "arn:${var.partition}:cloudwatch:${var.region}:${var.account_id}:alarm:${var.name_prefix}-*"

  # What SNS lets the topic owner do on a topic without a policy.
  account_topic_actions = [
    "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
    "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
  ]

  # What a topic's policy grants besides the account's rights.
  topic_policy_statements = {
    notifications = []
    alerts = [{
      Sid       = "CloudWatchAlarmsOfThisAccountPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = local.alerts_topic_arn
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = local.alarm_arn_pattern }
      }
    }]
  }

  # Every topic policy denies requests not sent over TLS (Resource: the topic's ARN).
  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "sns:*"
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }
}

################################################################################
# KMS key: alerts topic and Slack webhook parameter
################################################################################

# CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key
# alias/aws/sns: its key policy cannot be changed to let cloudwatch.amazonaws.com use it.
resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: encrypts the alerts topic and the Slack webhook parameter."
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  enable_key_rotation     = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The default key policy: lets IAM policies of this account grant use of the key.
        # In a key policy "Resource": "*" means this key.
        Sid       = "EnableIamPolicies"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "AllowCloudWatchAlarmsToPublishToTheAlertsTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        # Only this account's alarms of this environment (confused-deputy protection).
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
          ArnLike      = { "aws:SourceArn" = local.alarm_arn_pattern }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = local.key_alias_name
  target_key_id = aws_kms_key.this.key_id
}

################################################################################
# Topics
################################################################################

resource "aws_sns_topic" "notifications" {
  name              = local.notifications_topic_name
  display_name      = "covid-etl"
  kms_master_key_id = var.notifications_topic_kms_key_id

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.notifications_topic_arn
      error_message = "The topic's ARN ${self.arn} differs from the one built for policies (${local.notifications_topic_arn})."
    }
  }
}

resource "aws_sns_topic" "alerts" {
  name              = local.alerts_topic_name
  display_name      = "covid-etl alerts"
  kms_master_key_id = local.key_alias_name

  tags = var.tags

  depends_on = [aws_kms_alias.this]

  lifecycle {
    postcondition {
      condition     = self.arn == local.alerts_topic_arn
      error_message = "The topic's ARN ${self.arn} differs from the one built for alarms (${local.alerts_topic_arn})."
    }
  }
}

# Each topic's policy: the account's default rights on it (what SNS gives a topic without a
# policy), what local.topic_policy_statements adds, and TLS only.
resource "aws_sns_topic_policy" "this" {
  for_each = local.topics

  arn = each.value
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "AccountManagesTheTopic"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = local.account_topic_actions
        Resource  = each.value
      }],
      local.topic_policy_statements[each.key],
      [merge(local.deny_insecure_transport, { Resource = each.value })],
    )
  })

  depends_on = [aws_sns_topic.notifications, aws_sns_topic.alerts]
}

moved {
  from = aws_sns_topic_policy.alerts
  to   = aws_sns_topic_policy.this["alerts"]
}

################################################################################
# Email subscriptions
################################################################################

resource "aws_sns_topic_subscription" "notifications_email" {
  for_each = toset(var.email_addresses)

  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "alerts_email" {
  for_each = toset(local.alert_email_addresses)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

################################################################################
# Slack forwarder: subscribed to both topics
################################################################################

resource "aws_lambda_permission" "sns" {
  for_each = var.lambda_subscriber_arn == null ? {} : local.topics

  statement_id  = "AllowSns${title(each.key)}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_subscriber_arn
  principal     = "sns.amazonaws.com"
  source_arn    = each.value

  depends_on = [aws_sns_topic.notifications, aws_sns_topic.alerts]
}

resource "aws_sns_topic_subscription" "lambda" {
  for_each = var.lambda_subscriber_arn == null ? {} : local.topics

  topic_arn = each.value
  protocol  = "lambda"
  endpoint  = var.lambda_subscriber_arn

  depends_on = [aws_lambda_permission.sns]
}

################################################################################
# Slack webhook URL: SSM SecureString, value set by the operator
################################################################################

# value_wo is write-only: Terraform sends the placeholder once (value_wo_version 1) and
# stores neither it nor whatever the operator puts there later; Read leaves "value" empty.
resource "aws_ssm_parameter" "slack_webhook" {
  name             = var.slack_webhook_parameter_name
  description      = "Slack incoming-webhook URL for ${var.name_prefix}. Set it with: aws ssm put-parameter --overwrite --type SecureString --key-id ${local.key_alias_name} --name ${var.slack_webhook_parameter_name} --value <url>"
  type             = "SecureString"
  key_id           = local.key_alias_name
  value_wo         = local.slack_webhook_placeholder
  value_wo_version = 1

  tags = var.tags

  depends_on = [aws_kms_alias.this]

  lifecycle {
    # The operator's put-parameter may change these. Terraform must never update the
    # parameter afterwards: an update would send a value again, and it has none to send.
    ignore_changes = [description, key_id]
  }
}

################################################################################
# Optional: AWS Chatbot (Amazon Q Developer in chat applications) on the alerts topic
################################################################################

# Chatbot renders CloudWatch alarms natively; it ignores messages that are not in its
# custom format, so run notifications reach Slack through the forwarder instead.
resource "aws_iam_role" "chatbot" {
  count = local.create_chatbot ? 1 : 0

  name        = "${var.name_prefix}-chatbot"
  description = "Role of the ${var.name_prefix} Chatbot Slack channel: notifications only, no permissions."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ChatbotAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "chatbot.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

resource "aws_chatbot_slack_channel_configuration" "this" {
  count = local.create_chatbot ? 1 : 0

  configuration_name    = "${var.name_prefix}-alerts"
  iam_role_arn          = aws_iam_role.chatbot[0].arn
  slack_team_id         = var.slack_team_id
  slack_channel_id      = var.slack_channel_id
  sns_topic_arns        = [aws_sns_topic.alerts.arn]
  guardrail_policy_arns = ["arn:${var.partition}:iam::aws:policy/CloudWatchReadOnlyAccess"]
  logging_level         = "ERROR"

  tags = var.tags
}
