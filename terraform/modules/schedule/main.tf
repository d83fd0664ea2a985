# An EventBridge Scheduler schedule that invokes one Lambda function: explicit time zone,
# no flexible window, explicit retry policy, a dead-letter queue, and its own role that
# may invoke only that function and send only to that DLQ.

locals {
  schedule_arn = "arn:${var.partition}:scheduler:${var.region}:${var.account_id}:schedule/${var.group_name}/${var.name}"
  role_name    = "${var.name}-schedule"
  role_arn     = "arn:${var.partition}:iam::${var.account_id}:role/${local.role_name}"
  # Scheduler names the schedule group (not the schedule) as aws:SourceArn when it assumes the role.
  group_arn = "arn:${var.partition}:scheduler:${var.region}:${var.account_id}:schedule-group/${var.group_name}"
}

################################################################################
# Dead-letter queue
################################################################################

module "dlq" {
  source = "../dead-letter-queue"

  name          = var.dlq_name
  alarm_actions = var.alarm_actions
  account_id    = var.account_id
  region        = var.region
  partition     = var.partition

  tags = var.tags
}

################################################################################
# Role: invoke this function, dead-letter to this queue
################################################################################

resource "aws_iam_role" "this" {
  name        = local.role_name
  description = "Role of the ${var.name} schedule: invokes its function, writes its DLQ."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SchedulerAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnEquals    = { "aws:SourceArn" = local.group_arn }
      }
    }]
  })

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.role_arn
      error_message = "The role's ARN ${self.arn} differs from the one built for the schedule (${local.role_arn})."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name}-least-privilege"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeTarget"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [var.function_arn]
      },
      {
        # Scheduler delivers dead-letter events with the schedule's role.
        Sid      = "SendToDeadLetterQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [module.dlq.queue_arn]
      },
    ]
  })
}

################################################################################
# Schedule
################################################################################

resource "aws_scheduler_schedule" "this" {
  name                         = var.name
  description                  = var.description
  group_name                   = var.group_name
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_expression_timezone
  state                        = var.state

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.function_arn
    role_arn = local.role_arn
    input    = var.input

    retry_policy {
      maximum_retry_attempts       = var.retry_maximum_attempts
      maximum_event_age_in_seconds = var.retry_maximum_event_age_in_seconds
    }

    dead_letter_config {
      arn = module.dlq.queue_arn
    }
  }

  depends_on = [aws_iam_role.this, aws_iam_role_policy.this]

  lifecycle {
    postcondition {
      condition     = self.arn == local.schedule_arn
      error_message = "The schedule's ARN ${self.arn} differs from the one built from its name (${local.schedule_arn})."
    }
  }
}
