# One Lambda function deployed from a prebuilt zip, with its own IAM role (only the named
# actions on the named resources), its own log group with retention, JSON logging,
# optional SQS event source mapping (partial batch failures, maximum concurrency),
# optional async-invocation settings and function URL, and Errors/Throttles alarms.

locals {
  function_arn   = "arn:${var.partition}:lambda:${var.region}:${var.account_id}:function:${var.name}"
  role_arn       = "arn:${var.partition}:iam::${var.account_id}:role/${var.name}"
  log_group_name = "/aws/lambda/${var.name}"
  log_group_arn  = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${local.log_group_name}"

  on_failure_queue_arn = try(var.async_invocation.on_failure_queue_arn, null)

  # The statements every function's role gets from the module, before var.policy_statements.
  module_statements = concat(
    # The log group exists (created below), so only stream and event writes are needed.
    # Log stream ARNs are "<log group ARN>:log-stream:<name>": hence the ":*" suffix.
    [{
      sid        = "WriteOwnLogs"
      actions    = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources  = ["${local.log_group_arn}:*"]
      conditions = []
    }],
    # X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions.
    var.tracing_mode == "Active" ? [{
      sid        = "WriteXRayTraces"
      actions    = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources  = ["*"]
      conditions = []
    }] : [],
    var.sqs_event_source == null ? [] : [{
      sid        = "ConsumeSourceQueue"
      actions    = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources  = [var.sqs_event_source.queue_arn]
      conditions = []
    }],
    local.on_failure_queue_arn == null ? [] : [{
      sid        = "SendFailedAsyncEvents"
      actions    = ["sqs:SendMessage"]
      resources  = [local.on_failure_queue_arn]
      conditions = []
    }],
  )

  statements = concat(local.module_statements, [for s in var.policy_statements : {
    sid        = s.sid
    actions    = s.actions
    resources  = s.resources
    conditions = s.conditions
  }])

  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [for s in local.statements : merge(
      {
        Sid      = s.sid
        Effect   = "Allow"
        Action   = s.actions
        Resource = s.resources
      },
      # Only emit "Condition" when there is one (IAM rejects "Condition": null).
      { for key, value in {
        Condition = {
          for test in distinct([for c in s.conditions : c.test]) :
          test => { for c in s.conditions : c.variable => c.values if c.test == test }
        }
      } : key => value if length(s.conditions) > 0 },
    )]
  })
}

################################################################################
# IAM role: one per function
################################################################################

resource "aws_iam_role" "this" {
  name        = var.name
  description = "Execution role of the ${var.name} Lambda function."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags

  lifecycle {
    postcondition {
      condition     = self.arn == local.role_arn
      error_message = "The role's ARN ${self.arn} differs from the one built for the function (${local.role_arn})."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = local.policy_document
}

################################################################################
# Log group
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days

  tags = var.tags
}

################################################################################
# Function
################################################################################

resource "aws_lambda_function" "this" {
  function_name                  = var.name
  description                    = var.description
  role                           = local.role_arn
  filename                       = var.filename
  source_code_hash               = filebase64sha256(var.filename)
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  timeout                        = var.timeout
  memory_size                    = var.memory_size
  reserved_concurrent_executions = var.reserved_concurrent_executions

  ephemeral_storage {
    size = var.ephemeral_storage_size
  }

  environment {
    variables = merge(var.environment_variables, { NODE_OPTIONS = "--enable-source-maps" })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.log_level
    system_log_level      = "INFO"
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  # The role must exist and hold its policy before the function runs with it.
  depends_on = [aws_iam_role.this, aws_iam_role_policy.this]

  lifecycle {
    postcondition {
      condition     = self.arn == local.function_arn
      error_message = "The function's ARN ${self.arn} differs from the one built for policies (${local.function_arn})."
    }
  }
}

################################################################################
# SQS event source mapping
################################################################################

resource "aws_lambda_event_source_mapping" "sqs" {
  count = var.sqs_event_source == null ? 0 : 1

  event_source_arn                   = var.sqs_event_source.queue_arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.sqs_event_source.batch_size
  maximum_batching_window_in_seconds = var.sqs_event_source.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.sqs_event_source.maximum_concurrency
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.sqs_event_source.queue_visibility_timeout_seconds >= 6 * var.timeout + var.sqs_event_source.maximum_batching_window_in_seconds
      error_message = "The queue's visibility timeout (${var.sqs_event_source.queue_visibility_timeout_seconds}s) must be at least 6 x the function timeout (${var.timeout}s) + the batching window (${var.sqs_event_source.maximum_batching_window_in_seconds}s) = ${6 * var.timeout + var.sqs_event_source.maximum_batching_window_in_seconds}s."
    }

    precondition {
      condition     = var.reserved_concurrent_executions == -1 || var.reserved_concurrent_executions >= var.sqs_event_source.maximum_concurrency
      error_message = "Reserved concurrency (${var.reserved_concurrent_executions}) is below the mapping's maximum concurrency (${var.sqs_event_source.maximum_concurrency}): throttled receives would count toward maxReceiveCount."
    }
  }
}

################################################################################
# Asynchronous invocation (Scheduler, SNS)
################################################################################

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.async_invocation == null ? 0 : 1

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_invocation.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_invocation.maximum_event_age_in_seconds

  dynamic "destination_config" {
    for_each = local.on_failure_queue_arn == null ? [] : [local.on_failure_queue_arn]

    content {
      on_failure {
        destination = destination_config.value
      }
    }
  }
}

################################################################################
# Function URL
################################################################################

resource "aws_lambda_function_url" "this" {
  count = var.function_url_authorization_type == null ? 0 : 1

  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.function_url_authorization_type
}

# A public URL needs a resource policy statement allowing anyone to call it. AWS also
# requires a lambda:InvokeFunction statement conditioned on lambda:InvokedViaFunctionUrl,
# which aws_lambda_permission cannot express before provider 6.x: see the README.
resource "aws_lambda_permission" "public_url" {
  count = var.function_url_authorization_type == "NONE" ? 1 : 0

  statement_id           = "FunctionURLAllowPublicAccess"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "Lambda ${var.name} reported more than ${var.errors_alarm_threshold} errors in ${var.alarm_period_seconds}s. Read its logs (${local.log_group_name})."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.errors_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags

  depends_on = [aws_lambda_function.this]
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}-throttles"
  alarm_description   = "Lambda ${var.name} was throttled more than ${var.throttles_alarm_threshold} times in ${var.alarm_period_seconds}s: check reserved and account concurrency."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = var.name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.throttles_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags

  depends_on = [aws_lambda_function.this]
}
