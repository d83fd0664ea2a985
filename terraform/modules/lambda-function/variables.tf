################################################################################
# Function
################################################################################

variable "name" {
  description = "Function name; also the name of its IAM role and of its log group /aws/lambda/<name>. 1 to 64 characters: letters, digits, hyphens and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1 to 64 characters from A-Z, a-z, 0-9, - and _."
  }
}

variable "description" {
  description = "What the function does. Up to 256 characters."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "filename" {
  description = "Path of the prebuilt deployment zip (from `pnpm build`: services/<name>/dist/<name>.zip). Its SHA-256 is the source_code_hash, so a rebuilt zip is redeployed and an identical one is not."
  type        = string
}

variable "handler" {
  description = "Handler in the zip, <file>.<export>. The bundle is index.mjs exporting handler."
  type        = string
  default     = "index.handler"
}

variable "runtime" {
  description = "Lambda runtime identifier: a Node.js runtime such as nodejs22.x."
  type        = string
  default     = "nodejs22.x"

  validation {
    condition     = can(regex("^nodejs[0-9]+\\.x$", var.runtime))
    error_message = "runtime must be a Node.js runtime such as nodejs22.x."
  }
}

variable "architecture" {
  description = "Instruction set: arm64 or x86_64. The bundles are plain JavaScript, so arm64 (cheaper) is the default."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "timeout" {
  description = "Function timeout in seconds. An integer from 1 to 900."
  type        = number

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be an integer from 1 to 900."
  }
}

variable "memory_size" {
  description = "Memory in MB. An integer from 128 to 10240."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be an integer from 128 to 10240."
  }
}

variable "ephemeral_storage_size" {
  description = "Size of the function's /tmp in MB. An integer from 512 (Lambda's default, free) to 10240."
  type        = number
  default     = 512

  validation {
    condition     = var.ephemeral_storage_size >= 512 && var.ephemeral_storage_size <= 10240 && floor(var.ephemeral_storage_size) == var.ephemeral_storage_size
    error_message = "ephemeral_storage_size must be an integer from 512 to 10240."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency: -1 for none (the default), 0 to stop the function, or a positive integer. For an SQS consumer it must be at least the mapping's maximum_concurrency. Needs that many unreserved executions left in the account (new accounts may have a limit of 10)."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be -1 or an integer >= 0."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function. NODE_OPTIONS=--enable-source-maps is always added. At most 4 KB in total (AWS limit)."
  type        = map(string)
  default     = {}
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active (sample and send traces; grants xray:PutTraceSegments and xray:PutTelemetryRecords) or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

################################################################################
# Logs
################################################################################

variable "log_retention_in_days" {
  description = "Retention of the function's log group, in days: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "Application log level of the JSON logs (Lambda drops lower levels): one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

################################################################################
# Permissions
################################################################################

variable "policy_statements" {
  description = "Allow statements of the function's own role beyond what the module adds (own log group, X-Ray when Active, the SQS source, the async failure destination). Name the actions and the resource ARNs; conditions are optional ({ test, variable, values })."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : can(regex("^[A-Za-z0-9]+$", s.sid)) && length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "Every statement needs an alphanumeric sid, at least one action and at least one resource."
  }
}

################################################################################
# Triggers
################################################################################

variable "sqs_event_source" {
  description = "SQS event source mapping, or null for none. The mapping always reports batch item failures. queue_visibility_timeout_seconds is the queue's, checked at plan time against 6 x timeout + batching window. batch_size: 1 to 10000 (above 10 needs a batching window >= 1); maximum_batching_window_in_seconds: 0 to 300; maximum_concurrency: 2 to 1000."
  type = object({
    queue_arn                          = string
    queue_visibility_timeout_seconds   = number
    batch_size                         = number
    maximum_batching_window_in_seconds = number
    maximum_concurrency                = number
  })
  default = null

  validation {
    condition = var.sqs_event_source == null ? true : (
      var.sqs_event_source.batch_size >= 1 && var.sqs_event_source.batch_size <= 10000 &&
      var.sqs_event_source.maximum_batching_window_in_seconds >= 0 && var.sqs_event_source.maximum_batching_window_in_seconds <= 300 &&
      (var.sqs_event_source.batch_size <= 10 || var.sqs_event_source.maximum_batching_window_in_seconds >= 1)
    )
    error_message = "batch_size must be 1 to 10000 (above 10 only with a batching window >= 1 s) and maximum_batching_window_in_seconds 0 to 300."
  }

  validation {
    condition     = var.sqs_event_source == null ? true : (var.sqs_event_source.maximum_concurrency >= 2 && var.sqs_event_source.maximum_concurrency <= 1000)
    error_message = "maximum_concurrency must be from 2 to 1000."
  }
}

variable "async_invocation" {
  description = "For functions invoked asynchronously (Scheduler, SNS): Lambda's own retries (0 to 2), maximum event age (60 to 21600 s), and an SQS queue ARN that receives events that still fail (null for none)."
  type = object({
    maximum_retry_attempts       = number
    maximum_event_age_in_seconds = number
    on_failure_queue_arn         = optional(string)
  })
  default = null

  validation {
    condition = var.async_invocation == null ? true : (
      var.async_invocation.maximum_retry_attempts >= 0 && var.async_invocation.maximum_retry_attempts <= 2 &&
      var.async_invocation.maximum_event_age_in_seconds >= 60 && var.async_invocation.maximum_event_age_in_seconds <= 21600
    )
    error_message = "maximum_retry_attempts must be 0 to 2 and maximum_event_age_in_seconds 60 to 21600."
  }
}

variable "function_url_authorization_type" {
  description = "Create a function URL with this auth type: AWS_IAM (callers sign with SigV4 and need lambda:InvokeFunctionUrl), NONE (public), or null for no URL. See the README about NONE and provider 5.x."
  type        = string
  default     = null

  validation {
    condition     = var.function_url_authorization_type == null ? true : contains(["AWS_IAM", "NONE"], var.function_url_authorization_type)
    error_message = "function_url_authorization_type must be AWS_IAM, NONE or null."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarm_actions" {
  description = "ARNs notified by the Errors and Throttles alarms, usually the alerts SNS topic. 1 to 5 ARNs."
  type        = list(string)

  validation {
    condition     = length(var.alarm_actions) >= 1 && length(var.alarm_actions) <= 5
    error_message = "alarm_actions must hold 1 to 5 ARNs."
  }
}

variable "errors_alarm_threshold" {
  description = "The Errors alarm fires when the sum of errors in one period is greater than this. An integer >= 0."
  type        = number
  default     = 0

  validation {
    condition     = var.errors_alarm_threshold >= 0
    error_message = "errors_alarm_threshold must be >= 0."
  }
}

variable "throttles_alarm_threshold" {
  description = "The Throttles alarm fires when the sum of throttles in one period is greater than this. An integer >= 0."
  type        = number
  default     = 0

  validation {
    condition     = var.throttles_alarm_threshold >= 0
    error_message = "throttles_alarm_threshold must be >= 0."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the Errors and Throttles alarms, in seconds: one of 60, 300, 900, 3600."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be one of 60, 300, 900, 3600."
  }
}

################################################################################
# Account
################################################################################

variable "account_id" {
  description = "AWS account id (12 digits); used to build ARNs (function, role, log group) before they exist, so policies are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the function, for example us-east-1."
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
