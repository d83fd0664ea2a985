# A standalone dead-letter queue: encrypted, long retention, and a CloudWatch alarm that
# fires as soon as one message is visible. Used by the queue module (for its work queue's
# DLQ) and directly for the EventBridge rule target, the schedules and async invocations.

locals {
  arn = "arn:${var.partition}:sqs:${var.region}:${var.account_id}:${var.name}"
  # Built like the ARN, so that the functions' environment (queue URLs) is known at plan time.
  url = "https://sqs.${var.region}.${var.partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}/${var.account_id}/${var.name}"
  # Every queue policy denies requests not sent over TLS.
  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "sqs:*"
    Resource  = local.arn
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }
}

################################################################################
# Queue
################################################################################

resource "aws_sqs_queue" "this" {
  name                      = var.name
  message_retention_seconds = var.message_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.arn
      error_message = "The queue's ARN ${self.arn} differs from the one built for policies (${local.arn}): check account_id, region and partition."
    }

    postcondition {
      condition     = self.url == local.url
      error_message = "The queue's URL ${self.url} differs from the one built for the functions' environment (${local.url})."
    }
  }
}

################################################################################
# Queue policy: TLS only
################################################################################

# A caller that writes its own policy for this queue (the events module, whose rule sends
# here) sets create_policy = false and puts the same statement in its policy.
resource "aws_sqs_queue_policy" "this" {
  count = var.create_policy ? 1 : 0

  queue_url = aws_sqs_queue.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.deny_insecure_transport]
  })
}

################################################################################
# Alarm: any message in the DLQ
################################################################################

# ApproximateNumberOfMessagesVisible, not NumberOfMessagesSent: messages moved here by a
# redrive policy are not counted as "sent".
resource "aws_cloudwatch_metric_alarm" "depth" {
  alarm_name          = "${var.name}-not-empty"
  alarm_description   = "Dead-letter queue ${var.name} holds at least one message. Inspect it (pnpm etl dlq peek), fix the cause, then replay it (pnpm etl dlq replay)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags

  depends_on = [aws_sqs_queue.this]
}
