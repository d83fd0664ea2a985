# The whole covid-etl pipeline of one environment: tables, queues, bus, topics, the seven
# functions, the schedules, and the operator configuration. Every name carries the
# environment: covid-etl-<environment>-<what>.

locals {
  prefix = "covid-etl-${var.environment}"
  aws    = { account_id = var.account_id, region = var.region, partition = var.partition }

  # The queues and their event source mappings: QUEUES of @covid-etl/contracts, written once in
  # packages/contracts/src/queues.json and read here and by the local stack.
  queues = jsondecode(file("${path.module}/../../../packages/contracts/src/queues.json"))

  # The rule's pattern: EVENT_SOURCE and EventDetailType of packages/contracts/src/events.ts
  # (RUN_OUTCOME_EVENT_PATTERN); terraform/test proves the planned pattern equals them.
  run_outcome_event_pattern = {
    source        = ["covid-etl.pipeline"]
    "detail-type" = ["EtlRunCompleted", "EtlRunFailed"]
  }

  alarm_actions = [module.notifications.alerts_topic_arn]

  # Variables every function gets (EnvVar.Environment, EnvVar.LogLevel). The logger (pino)
  # wants lower-case level names; Lambda's own log-level filter takes upper case.
  common_env = {
    ETL_ENVIRONMENT = var.environment
    LOG_LEVEL       = lower(var.log_level)
  }

  # Scheduler substitutes <aws.scheduler.scheduled-time> only where it stands literally:
  # jsonencode() would escape < and > as \u003c and \u003e, so the input is written as text.
  scheduled_input = "{\"trigger\":\"schedule\",\"scheduledTime\":\"<aws.scheduler.scheduled-time>\"}"
  # The same shape, plus what the run reads in full: the whole county file instead of its last 30 days.
  counties_backfill_input = "{\"trigger\":\"schedule\",\"backfill\":\"counties\",\"scheduledTime\":\"<aws.scheduler.scheduled-time>\"}"

  # GEO_LEVELS: the levels this environment loads, in the order given (validated in variables.tf).
  geo_levels = join(",", var.geo_levels)
  # The occasional full read of us-counties.csv: only when counties are loaded and a schedule is set.
  counties_backfill_scheduled = contains(var.geo_levels, "county") && var.counties_backfill_schedule_expression != null

  # Sizing of the fetcher for the full county file (terraform/modules/pipeline/README.md, Sizing):
  # ~100 MB and ~2.5 M rows by 2023. The h/geo benchmark (docs/performance.md, States and counties)
  # parsed and planned a 3.58 M-row, 160 MB synthetic file in 27-37 s at 334 MB peak RSS on a
  # shared 2-core machine, making 2,035 chunks and 3,123 messages of <= 134 KB.
  # - memory 1769 MB: Lambda gives CPU in proportion to memory and one full vCPU at 1769 MB; the
  #   parse is single-threaded, so more buys nothing and less slows it (0.58 vCPU at 1024 MB). The
  #   parse + plan peak of 334 MB leaves ~5x headroom (the body itself is streamed to /tmp).
  # - /tmp 1024 MB: the downloader writes each body to /tmp (<= max_source_bytes, 256 MiB) and
  #   removes it after the run; a run killed by its timeout leaves its files in a warm
  #   environment's /tmp, so it holds two full county files plus the small ones (512 MB would not).
  # - timeout 900 s (Lambda's maximum): download ~100 MB (5-30 s), parse + plan (~30-40 s at one
  #   vCPU), read the stored day hashes of ~2,000 chunks, write ~3,100 chunk items (BatchWriteItem
  #   of 25: ~125 calls) and send ~3,100 messages (SendMessageBatch holds at most 256 KB, so one
  #   or two parts per call: up to ~3,100 calls at ~20-30 ms, 60-90 s); ~3-4 minutes in all, so
  #   900 s leaves 3-4x for a slow download or throttled sends. The daily run (nation, states,
  #   the 30-day county file: ~100k rows) takes seconds and is not slowed by the larger limit.
  fetcher_sizing = { memory_size = 1769, timeout = 900, ephemeral_storage_size = 1024 }

  # DynamoDB resources, by what a function does with a table.
  ddb = {
    ledger_arns = [module.ledger_table.table_arn]
    ledger_all  = concat([module.ledger_table.table_arn], values(module.ledger_table.index_arns))
    ledger_idx  = values(module.ledger_table.index_arns)
    data_arns   = [module.data_table.table_arn]
    data_idx    = [module.data_table.index_arns["versionsByRun"]]
  }

  # The seven functions (module.functions): what each one does, its environment and the
  # least-privilege statements of the calls its code makes. Optional per function, with
  # their defaults: timeout (30 s; an SQS consumer takes functionTimeoutSeconds of its queue),
  # memory_size (256 MB), ephemeral_storage_size (512 MB of /tmp), async (false: true for
  # functions invoked asynchronously by Scheduler or SNS, which get Lambda's retries and the
  # async DLQ), function_url (false).
  # A function whose key is in local.queues consumes that queue.
  functions = {
    fetcher = {
      description = "Downloads the sources, records the run, sends one message per changed chunk."
      timeout     = local.fetcher_sizing.timeout
      memory_size = local.fetcher_sizing.memory_size
      # /tmp for the downloaded bodies (see local.fetcher_sizing).
      ephemeral_storage_size = local.fetcher_sizing.ephemeral_storage_size
      async                  = true
      environment = {
        LEDGER_TABLE          = module.ledger_table.table_name
        TRANSFORMER_QUEUE_URL = module.queues["transformer"].queue_url
        EVENT_BUS_NAME        = module.events.bus_name
        NYT_URL               = var.source_urls.nyt
        JHU_URL               = var.source_urls.jhu
        STATES_URL            = var.source_urls.states
        COUNTIES_URL          = var.source_urls.counties
        COUNTIES_RECENT_URL   = var.source_urls.counties_recent
        GEO_LEVELS            = local.geo_levels
        MAX_SOURCE_BYTES      = tostring(var.max_source_bytes)
        DATA_TABLE            = module.data_table.table_name
        QUALITY_GATES         = jsonencode(var.quality_gates)
        SOURCE_ALLOWED_HOSTS  = join(",", var.source_allowed_hosts)
      }
      policy_statements = [
        # The run, its dispatch plan (BatchWriteItem of the chunk items), month states, source baselines,
        # a HELD run's snapshot; recent runs (the start-time index) to name other runs holding the same snapshot.
        { sid = "ReadWriteLedger", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"], resources = local.ddb.ledger_all },
        # The loaded series, which the data-quality gates compare each new snapshot with (Query: the nation,
        # and the catalogue's last date per state; BatchGetItem: the loaded values of the states' and
        # counties' revised days).
        { sid = "ReadData", actions = ["dynamodb:Query", "dynamodb:BatchGetItem"], resources = local.ddb.data_arns },
        { sid = "SendToTransformerQueue", actions = ["sqs:SendMessage"], resources = [module.queues["transformer"].queue_arn] },
        { sid = "PutRunEvents", actions = ["events:PutEvents"], resources = [module.events.bus_arn] },
      ]
    }
    transformer = {
      description = "Validates and joins one month of rows, records rejected rows, sends the chunk to the loader."
      environment = {
        LEDGER_TABLE     = module.ledger_table.table_name
        LOADER_QUEUE_URL = module.queues["loader"].queue_url
      }
      policy_statements = [
        # GetItem: the chunk's run, to drop the chunks of an abandoned run.
        { sid = "ReadWriteLedger", actions = ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources = local.ddb.ledger_arns },
        { sid = "SendToLoaderQueue", actions = ["sqs:SendMessage"], resources = [module.queues["loader"].queue_arn] },
      ]
    }
    loader = {
      description = "Writes one month of records with conditional writes, completes the run, puts the outcome event."
      environment = {
        DATA_TABLE     = module.data_table.table_name
        LEDGER_TABLE   = module.ledger_table.table_name
        EVENT_BUS_NAME = module.events.bus_name
      }
      policy_statements = [
        # Month chunks and geo parts: BatchWriteItem of days, versions, catalogue and county summaries;
        # BatchGetItem of a geo part's stored days; Query of months, the catalogue and the summaries.
        { sid = "ReadWriteData", actions = ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"], resources = local.ddb.data_arns },
        # A finished run's revised days (its version items), for its summary.
        { sid = "ReadVersionsByRun", actions = ["dynamodb:Query"], resources = local.ddb.data_idx },
        { sid = "ReadWriteLedger", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"], resources = local.ddb.ledger_arns },
        { sid = "PutRunEvents", actions = ["events:PutEvents"], resources = [module.events.bus_arn] },
      ]
    }
    notifier = {
      description = "De-duplicates run outcome events and publishes one notification per run and outcome."
      environment = {
        LEDGER_TABLE = module.ledger_table.table_name
        TOPIC_ARN    = module.notifications.notifications_topic_arn
      }
      policy_statements = [
        { sid = "RecordNotificationsInLedger", actions = ["dynamodb:GetItem", "dynamodb:PutItem"], resources = local.ddb.ledger_arns },
        { sid = "PublishNotifications", actions = ["sns:Publish"], resources = [module.notifications.notifications_topic_arn] },
      ]
    }
    slack-forwarder = {
      description = "Posts notifications and alarms from the SNS topics to Slack (webhook URL read from SSM at run time)."
      timeout     = 15
      async       = true
      environment = {
        SLACK_WEBHOOK_PARAMETER = module.notifications.slack_webhook_parameter_name
      }
      policy_statements = module.notifications.slack_webhook_reader_policy_statements
    }
    watchdog = {
      description = "Reports runs that did not finish in time (stalled, or chunks in a DLQ) once, as EtlRunFailed."
      timeout     = 60
      async       = true
      environment = {
        LEDGER_TABLE        = module.ledger_table.table_name
        EVENT_BUS_NAME      = module.events.bus_name
        STALL_AFTER_MINUTES = tostring(var.stall_after_minutes)
      }
      policy_statements = [
        # Unfinished runs (GSI byStartedAt) and their chunks; it finishes a stalled run as
        # INCOMPLETE and re-publishes orphaned outcome events (UpdateItem only: it never
        # finishes a run SUCCEEDED, the one case that writes source baselines with PutItem).
        { sid = "CheckRunsInLedger", actions = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem"], resources = local.ddb.ledger_all },
        { sid = "PutRunEvents", actions = ["events:PutEvents"], resources = [module.events.bus_arn] },
      ]
    }
    dashboard = {
      description  = "Serves the dashboard page and its JSON API (reads the series and the latest runs)."
      timeout      = 10
      function_url = true
      environment = {
        DATA_TABLE   = module.data_table.table_name
        LEDGER_TABLE = module.ledger_table.table_name
        # The levels loaded here: the dashboard offers no level that has no data.
        GEO_LEVELS = local.geo_levels
      }
      policy_statements = [
        { sid = "ReadSeries", actions = ["dynamodb:Query"], resources = local.ddb.data_arns },
        { sid = "ReadVersionsByRun", actions = ["dynamodb:Query"], resources = local.ddb.data_idx },
        { sid = "ReadRuns", actions = ["dynamodb:Query"], resources = local.ddb.ledger_idx },
      ]
    }
  }

  # Lambda's own retries for asynchronously invoked functions (Scheduler, SNS), then the async DLQ.
  async_invocation = {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 3600
    on_failure_queue_arn         = module.async_dlq.queue_arn
  }
}

################################################################################
# Tables
################################################################################

module "data_table" {
  source = "../table"

  name      = "${local.prefix}-data"
  hash_key  = "pk"
  range_key = "sk"
  # Days (pk = US) and their version items (pk = DAY#<date>); versionsByRun holds only versions.
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
    { name = "vrun", type = "S" },
    { name = "vdate", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "versionsByRun", hash_key = "vrun", range_key = "vdate", projection_type = "ALL" },
  ]
  deletion_protection_enabled = var.deletion_protection_enabled
  account_id                  = var.account_id
  region                      = var.region
  partition                   = var.partition

  tags = var.tags
}

module "ledger_table" {
  source = "../table"

  name      = "${local.prefix}-ledger"
  hash_key  = "pk"
  range_key = "sk"
  attributes = [
    { name = "pk", type = "S" },
    { name = "sk", type = "S" },
    { name = "gsi1pk", type = "S" },
    { name = "gsi1sk", type = "S" },
  ]
  global_secondary_indexes = [
    { name = "byStartedAt", hash_key = "gsi1pk", range_key = "gsi1sk", projection_type = "ALL" },
  ]
  deletion_protection_enabled = var.deletion_protection_enabled
  account_id                  = var.account_id
  region                      = var.region
  partition                   = var.partition

  tags = var.tags
}

################################################################################
# Notifications, alerts and the Slack webhook parameter
################################################################################

module "notifications" {
  source = "../notifications"

  name_prefix                  = local.prefix
  email_addresses              = var.email_addresses
  alert_email_addresses        = var.alert_email_addresses
  lambda_subscriber_arn        = module.functions["slack-forwarder"].function_arn
  slack_webhook_parameter_name = "/covid-etl/${var.environment}/slack-webhook-url"
  slack_team_id                = var.slack_team_id
  slack_channel_id             = var.slack_channel_id
  account_id                   = var.account_id
  region                       = var.region
  partition                    = var.partition

  tags = var.tags
}

################################################################################
# Work queues (each with its DLQ and alarms)
################################################################################

module "queues" {
  source   = "../queue"
  for_each = local.queues

  name                          = "${local.prefix}-${each.value.suffix}"
  visibility_timeout_seconds    = each.value.visibilityTimeoutSeconds
  message_retention_seconds     = each.value.messageRetentionSeconds
  dlq_message_retention_seconds = each.value.dlqMessageRetentionSeconds
  max_receive_count             = each.value.maxReceiveCount
  # The rule's target: module.events writes that queue's policy (the rule may send, TLS only).
  create_queue_policy                        = each.key != "notifier"
  oldest_message_age_alarm_threshold_seconds = var.alarm_thresholds.queue_oldest_message_age_seconds
  oldest_message_age_alarm_max_seconds       = var.alarm_thresholds.queue_oldest_message_age_max_seconds
  alarm_actions                              = local.alarm_actions
  account_id                                 = var.account_id
  region                                     = var.region
  partition                                  = var.partition

  tags = var.tags
}

# Events that asynchronously invoked functions (fetcher, watchdog, slack-forwarder) still
# fail after Lambda's retries.
module "async_dlq" {
  source = "../dead-letter-queue"

  name          = "${local.prefix}-async-dlq"
  alarm_actions = local.alarm_actions
  account_id    = var.account_id
  region        = var.region
  partition     = var.partition

  tags = var.tags
}

################################################################################
# Event bus: run outcomes -> notifier queue
################################################################################

module "events" {
  source = "../events"

  bus_name               = local.prefix
  archive_retention_days = var.event_archive_retention_days
  rule_name              = "${local.prefix}-run-outcome"
  event_pattern          = jsonencode(local.run_outcome_event_pattern)
  target_queue_arn       = module.queues["notifier"].queue_arn
  target_queue_url       = module.queues["notifier"].queue_url
  dlq_name               = "${local.prefix}-events-dlq"
  alarm_actions          = local.alarm_actions
  account_id             = var.account_id
  region                 = var.region
  partition              = var.partition

  tags = var.tags
}

################################################################################
# Functions
################################################################################

# Every function, with the defaults described at local.functions. SQS consumers get their
# event source mapping from local.queues.
module "functions" {
  source   = "../lambda-function"
  for_each = local.functions

  name                           = "${local.prefix}-${each.key}"
  description                    = each.value.description
  filename                       = "${var.artifacts_dir}/${each.key}/dist/${each.key}.zip"
  timeout                        = try(local.queues[each.key].functionTimeoutSeconds, each.value.timeout, 30)
  memory_size                    = try(each.value.memory_size, 256)
  ephemeral_storage_size         = try(each.value.ephemeral_storage_size, 512)
  reserved_concurrent_executions = var.reserved_concurrency[each.key]
  environment_variables          = merge(local.common_env, each.value.environment)
  policy_statements              = each.value.policy_statements
  sqs_event_source = !contains(keys(local.queues), each.key) ? null : {
    queue_arn                          = module.queues[each.key].queue_arn
    queue_visibility_timeout_seconds   = module.queues[each.key].visibility_timeout_seconds
    batch_size                         = local.queues[each.key].batchSize
    maximum_batching_window_in_seconds = local.queues[each.key].maximumBatchingWindowSeconds
    maximum_concurrency                = local.queues[each.key].maximumConcurrency
  }
  async_invocation                = try(each.value.async, false) ? local.async_invocation : null
  function_url_authorization_type = !try(each.value.function_url, false) ? null : var.dashboard_public_url ? "NONE" : "AWS_IAM"
  log_retention_in_days           = var.log_retention_in_days
  log_level                       = var.log_level
  tracing_mode                    = var.tracing_mode
  errors_alarm_threshold          = var.alarm_thresholds.lambda_errors
  throttles_alarm_threshold       = var.alarm_thresholds.lambda_throttles
  alarm_actions                   = local.alarm_actions
  account_id                      = var.account_id
  region                          = var.region
  partition                       = var.partition

  tags = var.tags
}

# The functions were one module each (and the SQS consumers module.queue_consumers) before
# module.functions: these keep a deployed environment's functions in place.
moved {
  from = module.fetcher
  to   = module.functions["fetcher"]
}

moved {
  from = module.slack_forwarder
  to   = module.functions["slack-forwarder"]
}

moved {
  from = module.watchdog
  to   = module.functions["watchdog"]
}

moved {
  from = module.dashboard
  to   = module.functions["dashboard"]
}

moved {
  from = module.queue_consumers["transformer"]
  to   = module.functions["transformer"]
}

moved {
  from = module.queue_consumers["loader"]
  to   = module.functions["loader"]
}

moved {
  from = module.queue_consumers["notifier"]
  to   = module.functions["notifier"]
}

################################################################################
# Schedules: the daily fetcher run, the counties backfill and the watchdog
################################################################################

resource "aws_scheduler_schedule_group" "this" {
  name = local.prefix

  tags = var.tags
}

module "fetcher_schedule" {
  source = "../schedule"

  name                               = "${local.prefix}-fetcher"
  description                        = "Starts the daily covid-etl run of ${var.environment}."
  group_name                         = aws_scheduler_schedule_group.this.name
  schedule_expression                = var.fetcher_schedule_expression
  schedule_expression_timezone       = var.fetcher_schedule_timezone
  function_arn                       = module.functions["fetcher"].function_arn
  input                              = local.scheduled_input
  retry_maximum_attempts             = 3
  retry_maximum_event_age_in_seconds = 3600
  dlq_name                           = "${local.prefix}-fetcher-schedule-dlq"
  alarm_actions                      = local.alarm_actions
  account_id                         = var.account_id
  region                             = var.region
  partition                          = var.partition

  tags = var.tags
}

# The full county file, now and then (the daily run reads only its last 30 days): absent when
# counties_backfill_schedule_expression is null or geo_levels has no county.
module "counties_backfill_schedule" {
  source = "../schedule"
  count  = local.counties_backfill_scheduled ? 1 : 0

  name                               = "${local.prefix}-counties-backfill"
  description                        = "Starts a covid-etl run of ${var.environment} that reads the full county file."
  group_name                         = aws_scheduler_schedule_group.this.name
  schedule_expression                = var.counties_backfill_schedule_expression
  schedule_expression_timezone       = "UTC"
  function_arn                       = module.functions["fetcher"].function_arn
  input                              = local.counties_backfill_input
  retry_maximum_attempts             = 3
  retry_maximum_event_age_in_seconds = 3600
  dlq_name                           = "${local.prefix}-counties-backfill-schedule-dlq"
  alarm_actions                      = local.alarm_actions
  account_id                         = var.account_id
  region                             = var.region
  partition                          = var.partition

  tags = var.tags
}

module "watchdog_schedule" {
  source = "../schedule"

  name                               = "${local.prefix}-watchdog"
  description                        = "Looks for stalled covid-etl runs of ${var.environment}."
  group_name                         = aws_scheduler_schedule_group.this.name
  schedule_expression                = var.watchdog_schedule_expression
  schedule_expression_timezone       = "UTC"
  function_arn                       = module.functions["watchdog"].function_arn
  input                              = local.scheduled_input
  retry_maximum_attempts             = 2
  retry_maximum_event_age_in_seconds = 240
  dlq_name                           = "${local.prefix}-watchdog-schedule-dlq"
  alarm_actions                      = local.alarm_actions
  account_id                         = var.account_id
  region                             = var.region
  partition                          = var.partition

  tags = var.tags
}

################################################################################
# Operator configuration: what `pnpm etl --env <name>` needs, without the state
################################################################################

locals {
  operator_config = {
    environment = var.environment
    region      = var.region
    tables = {
      data   = module.data_table.table_name
      ledger = module.ledger_table.table_name
    }
    queues = { for k, q in module.queues : k => {
      url     = q.queue_url
      arn     = q.queue_arn
      dlq_url = q.dlq_url
      dlq_arn = q.dlq_arn
    } }
    # The other dead-letter queues: failed rule deliveries, schedule invocations and
    # async invocations. They have no source queue to redrive to, so each one says where
    # `etl dlq replay` sends its messages back (replay_to):
    #   queue:<key of queues>      send each body to that work queue (the rule's target)
    #   function:<key of functions> invoke that function with each body (a schedule's input)
    #   record                     invoke the function named in each Lambda failure record
    # terraform/test/environments.test.ts proves every DLQ of the plan is listed here with a
    # replay_to that names a planned queue or function.
    dead_letter_queues = merge(
      {
        events            = { url = module.events.dlq_url, arn = module.events.dlq_arn, replay_to = "queue:notifier" }
        fetcher_schedule  = { url = module.fetcher_schedule.dlq_url, arn = module.fetcher_schedule.dlq_arn, replay_to = "function:fetcher" }
        watchdog_schedule = { url = module.watchdog_schedule.dlq_url, arn = module.watchdog_schedule.dlq_arn, replay_to = "function:watchdog" }
        async             = { url = module.async_dlq.queue_url, arn = module.async_dlq.queue_arn, replay_to = "record" }
      },
      { for s in module.counties_backfill_schedule : "counties_backfill_schedule" => { url = s.dlq_url, arn = s.dlq_arn, replay_to = "function:fetcher" } },
    )
    event_bus_name = module.events.bus_name
    topic_arns = {
      notifications = module.notifications.notifications_topic_arn
      alerts        = module.notifications.alerts_topic_arn
    }
    # Keys with underscores (slack_forwarder), as operator tools read them.
    functions               = { for k, f in module.functions : replace(k, "-", "_") => f.function_name }
    dashboard_url           = module.functions["dashboard"].function_url
    slack_webhook_parameter = module.notifications.slack_webhook_parameter_name
  }
  operator_config_parameter_name = "/covid-etl/${var.environment}/operator-config"
}

resource "aws_ssm_parameter" "operator_config" {
  name        = local.operator_config_parameter_name
  description = "Resource names of covid-etl ${var.environment} for operator tools (JSON, same as terraform output operator_config)."
  type        = "String"
  tier        = "Standard"
  value       = jsonencode(local.operator_config)

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(jsonencode(local.operator_config)) <= 4096
      error_message = "The operator configuration exceeds the 4 KB of a Standard parameter."
    }
  }
}
