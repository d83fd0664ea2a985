################################################################################
# Environment
################################################################################

variable "environment" {
  description = "Environment name, part of every resource name (covid-etl-<environment>-...): 2 to 12 lowercase letters, digits or hyphens, starting with a letter; not \"local\" (the embedded local stack's name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,11}$", var.environment)) && var.environment != "local"
    error_message = "environment must be 2 to 12 characters from a-z, 0-9 and -, start with a letter, and not be \"local\"."
  }
}

variable "account_id" {
  description = "AWS account id (12 digits) the environment is deployed to. ARNs are built from it so that every IAM policy is known at plan time; the provider's allowed_account_ids must hold the same id."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the environment, for example us-east-1 (the provider's region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
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

variable "artifacts_dir" {
  description = "Directory that holds the services: the zip of function <name> is <artifacts_dir>/<name>/dist/<name>.zip, built by `pnpm build`."
  type        = string
}

################################################################################
# Functions
################################################################################

variable "log_retention_in_days" {
  description = "Retention of every function's log group, in days: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "Log level of every function (LOG_LEVEL and Lambda's application log level): one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing of every function: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of every function, by function key (fetcher, transformer, loader, notifier, slack-forwarder, watchdog, dashboard): an integer from 1 to the account's limit minus 100 (AWS keeps 100 unreserved). It caps what each function can take from the account, so a burst on one (the dashboard) cannot starve the pipeline, and an SQS consumer (transformer, loader, notifier) needs at least its queue's maximumConcurrency (2). The sum must leave 100 unreserved executions: an account with the new-account limit of 10 must ask for a higher limit first."
  type = object({
    fetcher         = number
    transformer     = number
    loader          = number
    notifier        = number
    slack-forwarder = number
    watchdog        = number
    dashboard       = number
  })

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v >= 1 && floor(v) == v])
    error_message = "reserved_concurrency must give every function (fetcher, transformer, loader, notifier, slack-forwarder, watchdog, dashboard) an integer >= 1."
  }
}

variable "source_urls" {
  description = "URLs the fetcher downloads: nyt (NYT_URL, the nation), jhu (JHU_URL, recoveries), states (STATES_URL, us-states.csv), counties (COUNTIES_URL, the full us-counties.csv, read by a backfill), counties_recent (COUNTIES_RECENT_URL, us-counties-recent.csv, the last 30 days, read by the daily run). Each defaults to the publisher's public file; override any of them. https only."
  type = object({
    nyt             = optional(string, "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv")
    jhu             = optional(string, "https://raw.githubusercontent.com/datasets/covid-19/main/data/time-series-19-covid-combined.csv")
    states          = optional(string, "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-states.csv")
    counties        = optional(string, "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-counties.csv")
    counties_recent = optional(string, "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-counties-recent.csv")
  })
  default = {}

  validation {
    condition     = alltrue([for url in values(var.source_urls) : startswith(url, "https://")])
    error_message = "source_urls must be https URLs (nyt, jhu, states, counties, counties_recent)."
  }
}

variable "geo_levels" {
  description = "Geography levels the environment loads (GEO_LEVELS, comma-joined, for the fetcher and the dashboard): a non-empty list of distinct values among nation, state, county. Without county, no county file is read and no counties backfill is scheduled."
  type        = list(string)
  default     = ["nation", "state", "county"]
  nullable    = false

  validation {
    condition     = length(var.geo_levels) > 0 && alltrue([for level in var.geo_levels : contains(["nation", "state", "county"], level)])
    error_message = "geo_levels must be a non-empty list of nation, state, county."
  }

  validation {
    condition     = length(distinct(var.geo_levels)) == length(var.geo_levels)
    error_message = "geo_levels must not repeat a level (nation, state, county)."
  }
}

variable "max_source_bytes" {
  description = "Largest source body the fetcher accepts, in bytes (MAX_SOURCE_BYTES): an integer from 1048576 (1 MiB) to 1073741824 (1 GiB). Default 268435456 (256 MiB): the full us-counties.csv is ~100 MB by 2023 (the synthetic 3.58 M-row benchmark file 160 MB); a larger body is refused before it fills the fetcher's memory."
  type        = number
  default     = 268435456

  validation {
    condition     = var.max_source_bytes >= 1048576 && var.max_source_bytes <= 1073741824 && floor(var.max_source_bytes) == var.max_source_bytes
    error_message = "max_source_bytes must be an integer from 1048576 (1 MiB) to 1073741824 (1 GiB)."
  }
}

variable "quality_gates" {
  description = "Data-quality gate thresholds of the fetcher (QUALITY_GATES; see packages/contracts QualityGates and docs/architecture.md, Trust boundary). A snapshot that trips one is HELD until `etl approve` or `etl reject`. Ratios are from 0 to 1; a cumulative fall or downward revision trips only beyond both its ratio and its absolute allowance."
  type = object({
    maxMissingDates        = optional(number, 0)
    cumulativeFallRatio    = optional(number, 0.1)
    cumulativeFallAbsolute = optional(number, 1000)
    revisedDownRatio       = optional(number, 0.05)
    revisedDownAbsolute    = optional(number, 1000)
    maxRevisedShare        = optional(number, 0.75)
  })
  default = {}

  validation {
    condition = (
      var.quality_gates.maxMissingDates >= 0 && var.quality_gates.cumulativeFallAbsolute >= 0 && var.quality_gates.revisedDownAbsolute >= 0 &&
      var.quality_gates.cumulativeFallRatio >= 0 && var.quality_gates.revisedDownRatio >= 0 &&
      var.quality_gates.maxRevisedShare >= 0 && var.quality_gates.maxRevisedShare <= 1
    )
    error_message = "quality_gates: counts and ratios must be >= 0, and maxRevisedShare from 0 to 1."
  }
}

variable "source_allowed_hosts" {
  description = "Host names a source URL and every redirect hop may use (SOURCE_ALLOWED_HOSTS); empty: any host that resolves to public addresses."
  type        = list(string)
  default     = []
}

variable "stall_after_minutes" {
  description = "Minutes without progress (no chunk loaded since the run's start or its last loaded chunk) after which an unfinished run is reported as stalled by the watchdog (STALL_AFTER_MINUTES). A run that keeps loading, however long (a counties backfill), is not stalled. An integer from 5 to 1440."
  type        = number
  default     = 30

  validation {
    condition     = var.stall_after_minutes >= 5 && var.stall_after_minutes <= 1440 && floor(var.stall_after_minutes) == var.stall_after_minutes
    error_message = "stall_after_minutes must be an integer from 5 to 1440."
  }
}

variable "dashboard_public_url" {
  description = "Opt in to a public dashboard: true gives its function URL AuthType NONE (anyone may call it, up to its reserved concurrency; one extra command after apply, see terraform/README.md). false (the default) keeps AWS_IAM: callers sign requests with SigV4 and need lambda:InvokeFunctionUrl."
  type        = bool
  default     = false
}

################################################################################
# Schedules
################################################################################

variable "fetcher_schedule_expression" {
  description = "When the fetcher runs: a daily cron expression of EventBridge Scheduler. Default: every day at 00:00 in fetcher_schedule_timezone."
  type        = string
  default     = "cron(0 0 * * ? *)"

  validation {
    condition     = can(regex("^cron\\([0-9]{1,2} [0-9]{1,2} [*?] [*] [*?] [*]\\)$", var.fetcher_schedule_expression))
    error_message = "fetcher_schedule_expression must be a daily cron such as cron(0 0 * * ? *) (one fixed minute and hour, every day)."
  }
}

variable "fetcher_schedule_timezone" {
  description = "IANA time zone of fetcher_schedule_expression, for example UTC or America/New_York."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+)+)$", var.fetcher_schedule_timezone))
    error_message = "fetcher_schedule_timezone must be UTC or an IANA name such as America/New_York."
  }
}

variable "watchdog_schedule_expression" {
  description = "How often the watchdog looks for stalled runs: rate(<n> minutes) or a cron expression. Default every 5 minutes (well under stall_after_minutes)."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate\\([0-9]+ minutes?\\)|cron\\([^)]+\\))$", var.watchdog_schedule_expression))
    error_message = "watchdog_schedule_expression must be rate(<n> minutes) or cron(...)."
  }
}

variable "counties_backfill_schedule_expression" {
  description = "When the fetcher reads the full county file (input {\"trigger\":\"schedule\",\"backfill\":\"counties\"}), in UTC: a cron expression of EventBridge Scheduler with a fixed minute and hour, for example cron(0 6 1 * ? *) (06:00 UTC on the 1st of every month, the default). null: no schedule (a backfill is then only an explicit run by the operator). Ignored when geo_levels has no county."
  type        = string
  default     = "cron(0 6 1 * ? *)"

  validation {
    condition     = var.counties_backfill_schedule_expression == null || can(regex("^cron\\([0-9]{1,2} [0-9]{1,2} [^ ]+ [^ ]+ [^ ]+ [^ ]+\\)$", var.counties_backfill_schedule_expression))
    error_message = "counties_backfill_schedule_expression must be null or a cron with a fixed minute and hour, such as cron(0 6 1 * ? *)."
  }
}

################################################################################
# Data
################################################################################

variable "deletion_protection_enabled" {
  description = "Deletion protection of both DynamoDB tables. true in production."
  type        = bool
  default     = true
}

variable "event_archive_retention_days" {
  description = "Days the EventBridge archive keeps the bus's events for replay. An integer >= 0; 0 keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.event_archive_retention_days >= 0
    error_message = "event_archive_retention_days must be >= 0."
  }
}

################################################################################
# Notifications and alarms
################################################################################

variable "email_addresses" {
  description = "Addresses subscribed to the run notifications topic (and to the alerts topic unless alert_email_addresses is set). Each must confirm the subscription."
  type        = list(string)
  default     = []
}

variable "alert_email_addresses" {
  description = "Addresses subscribed to the alerts topic (CloudWatch alarms), or null to use email_addresses."
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
  description = "Alarm thresholds: Lambda errors and throttles per 5 minutes (fires above the value); the age in seconds of a work queue's oldest message beyond which it alarms when no message was consumed in 5 minutes (queue_oldest_message_age_seconds, 60 to 1209600), and beyond which it alarms even while messages are consumed (queue_oldest_message_age_max_seconds, from the former to 1209600; default 4 hours, above a full counties backfill's drain: see README, Alarms during a backfill). DLQ alarms always fire at the first message."
  type = object({
    lambda_errors                        = optional(number, 0)
    lambda_throttles                     = optional(number, 0)
    queue_oldest_message_age_seconds     = optional(number, 1800)
    queue_oldest_message_age_max_seconds = optional(number, 14400)
  })
  default = {}

  validation {
    condition     = var.alarm_thresholds.lambda_errors >= 0 && var.alarm_thresholds.lambda_throttles >= 0 && var.alarm_thresholds.queue_oldest_message_age_seconds >= 60 && var.alarm_thresholds.queue_oldest_message_age_seconds <= 1209600 && var.alarm_thresholds.queue_oldest_message_age_max_seconds >= var.alarm_thresholds.queue_oldest_message_age_seconds && var.alarm_thresholds.queue_oldest_message_age_max_seconds <= 1209600
    error_message = "lambda_errors and lambda_throttles must be >= 0, queue_oldest_message_age_seconds from 60 to 1209600, queue_oldest_message_age_max_seconds from queue_oldest_message_age_seconds to 1209600."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
}
