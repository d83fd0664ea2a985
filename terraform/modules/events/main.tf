# A custom EventBridge bus with an archive, and one rule that sends matching events to an
# SQS queue, with an explicit retry policy and a dead-letter queue on the target. The
# target queue's policy lets only this rule send (aws:SourceArn).

locals {
  bus_arn  = "arn:${var.partition}:events:${var.region}:${var.account_id}:event-bus/${var.bus_name}"
  rule_arn = "arn:${var.partition}:events:${var.region}:${var.account_id}:rule/${var.bus_name}/${var.rule_name}"

  # Lets EventBridge send to a queue only on behalf of this rule.
  only_this_rule_may_send = {
    for name, queue_arn in { target = var.target_queue_arn, dlq = module.dlq.queue_arn } : name => jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "AllowOnlyTheRule"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sqs:SendMessage"
          Resource  = queue_arn
          Condition = { ArnEquals = { "aws:SourceArn" = local.rule_arn } }
        },
        {
          Sid       = "DenyInsecureTransport"
          Effect    = "Deny"
          Principal = "*"
          Action    = "sqs:*"
          Resource  = queue_arn
          Condition = { Bool = { "aws:SecureTransport" = "false" } }
        },
      ]
    })
  }
}

################################################################################
# Bus and archive
################################################################################

resource "aws_cloudwatch_event_bus" "this" {
  name = var.bus_name

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.bus_arn
      error_message = "The bus's ARN ${self.arn} differs from the one built for policies (${local.bus_arn})."
    }
  }
}

resource "aws_cloudwatch_event_archive" "this" {
  name             = var.bus_name
  description      = "Every event of the ${var.bus_name} bus, for replay."
  event_source_arn = aws_cloudwatch_event_bus.this.arn
  retention_days   = var.archive_retention_days
}

################################################################################
# Rule -> queue, with retries and a DLQ
################################################################################

module "dlq" {
  source = "../dead-letter-queue"

  name          = var.dlq_name
  create_policy = false # aws_sqs_queue_policy.dlq below
  alarm_actions = var.alarm_actions
  account_id    = var.account_id
  region        = var.region
  partition     = var.partition

  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "this" {
  name           = var.rule_name
  description    = "Routes matching events of ${var.bus_name} to the target queue."
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = var.event_pattern

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.rule_arn
      error_message = "The rule's ARN ${self.arn} differs from the one in the queue policies (${local.rule_arn})."
    }
  }
}

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "queue"
  arn            = var.target_queue_arn

  retry_policy {
    maximum_event_age_in_seconds = var.retry_maximum_event_age_in_seconds
    maximum_retry_attempts       = var.retry_maximum_attempts
  }

  dead_letter_config {
    arn = module.dlq.queue_arn
  }

  depends_on = [aws_sqs_queue_policy.target, aws_sqs_queue_policy.dlq]
}

################################################################################
# Queue policies: only this rule may send, and only over TLS (the target queue's module
# must not write a policy of its own: create_queue_policy = false in the queue module)
################################################################################

resource "aws_sqs_queue_policy" "target" {
  queue_url = var.target_queue_url
  policy    = local.only_this_rule_may_send.target
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = module.dlq.queue_url
  policy    = local.only_this_rule_may_send.dlq
}
