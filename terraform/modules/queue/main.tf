# A standard work queue with its dead-letter queue. The redrive policy and the DLQ's
# redrive-allow policy are separate resources (an inline redrive_allow_policy creates a
# dependency cycle, terraform-provider-aws #22577). Both queues use SSE-SQS.

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
# Dead-letter queue (with its depth alarm)
################################################################################

module "dlq" {
  source = "../dead-letter-queue"

  name                      = "${var.name}-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  alarm_actions             = var.alarm_actions
  account_id                = var.account_id
  region                    = var.region
  partition                 = var.partition

  tags = var.tags
}

################################################################################
# Work queue
################################################################################

resource "aws_sqs_queue" "this" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = var.receive_wait_time_seconds
  max_message_size           = var.max_message_size
  sqs_managed_sse_enabled    = true

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
# Queue policy: TLS only (its DLQ's policy is the dead-letter-queue module's)
################################################################################

# A caller that writes its own policy for this queue (the events module, when the queue is a
# rule's target) sets create_queue_policy = false and puts the same statement in its policy.
resource "aws_sqs_queue_policy" "this" {
  count = var.create_queue_policy ? 1 : 0

  queue_url = aws_sqs_queue.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.deny_insecure_transport]
  })
}

################################################################################
# Redrive: work queue -> DLQ, and the DLQ accepts only this source
################################################################################

resource "aws_sqs_queue_redrive_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = module.dlq.queue_arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "this" {
  queue_url = module.dlq.queue_url
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.arn]
  })

  depends_on = [aws_sqs_queue.this]
}

################################################################################
# Alarm: the oldest message waits too long and the consumer makes no progress
################################################################################

# A long backlog that drains (a counties backfill: ~3,100 parts behind a consumer of
# maximum concurrency 2) keeps old messages for a while and is not a fault; a consumer that
# deletes nothing is. So the alarm fires, per period, when
#   the oldest message is older than oldest_message_age_alarm_threshold_seconds and no
#   message was deleted (consumed) in the period, or
#   the oldest message is older than oldest_message_age_alarm_max_seconds, progress or not.
# Comparisons in IF() are 1 or 0; missing data (an idle queue) does not breach.
resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  alarm_name          = "${var.name}-oldest-message-age"
  alarm_description   = "The oldest message of ${var.name} is older than ${var.oldest_message_age_alarm_threshold_seconds}s and none was consumed in ${var.alarm_period_seconds}s, or older than ${var.oldest_message_age_alarm_max_seconds}s: its consumer is failing, throttled, disabled or far too slow."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id = "age"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = var.name }
      stat        = "Maximum"
      period      = var.alarm_period_seconds
    }
  }

  metric_query {
    id = "deleted"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "NumberOfMessagesDeleted"
      dimensions  = { QueueName = var.name }
      stat        = "Sum"
      period      = var.alarm_period_seconds
    }
  }

  metric_query {
    id          = "stuck"
    label       = "oldest message too old without progress"
    expression  = "IF(age > ${var.oldest_message_age_alarm_threshold_seconds}, 1, 0) * IF(FILL(deleted, 0) == 0, 1, 0) + IF(age > ${var.oldest_message_age_alarm_max_seconds}, 1, 0)"
    return_data = true
  }

  tags = var.tags

  depends_on = [aws_sqs_queue.this]
}
