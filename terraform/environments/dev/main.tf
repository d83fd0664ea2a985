# The covid-etl pipeline, environment "dev": every setting of the environment is written here.

locals {
  # REPLACE with your dev account id (and the bucket name in versions.tf).
  account_id = "111111111111"
  region     = "us-east-1"
}

module "pipeline" {
  source = "../../modules/pipeline"

  environment   = "dev"
  account_id    = local.account_id
  region        = local.region
  artifacts_dir = "${path.root}/../../../services"

  log_retention_in_days = 14
  log_level             = "DEBUG"

  # Every function has a cap, so no burst (on the dashboard, say) can take the account's
  # concurrency; consumers need at least their queue's maximumConcurrency (2). Reserving
  # needs 100 unreserved executions left: a new account with a limit of 10 must ask for more.
  reserved_concurrency = {
    fetcher         = 1
    transformer     = 2
    loader          = 2
    notifier        = 2
    slack-forwarder = 2
    watchdog        = 1
    dashboard       = 2
  }

  stall_after_minutes = 30

  # The dashboard URL is signed (AWS_IAM); true would make it public (terraform/README.md, Deploy).
  dashboard_public_url = false

  fetcher_schedule_expression = "cron(0 0 * * ? *)"
  fetcher_schedule_timezone   = "UTC"

  # Every level, as in prod, so the county path runs here first: the daily run reads only the
  # 30-day county file (~100k rows; an unchanged day writes nothing). No scheduled backfill of
  # the full county file (~2.5 M rows, ~3,100 messages; the first one writes every day of every
  # county): an operator runs one on purpose (the manual backfill run of issue 13).
  geo_levels                            = ["nation", "state", "county"]
  counties_backfill_schedule_expression = null

  deletion_protection_enabled  = false
  event_archive_retention_days = 14

  email_addresses = ["covid-etl-dev@example.com"]

  # A work queue alarms when its oldest message is older than queue_oldest_message_age_seconds
  # and nothing was consumed for 5 minutes, or older than queue_oldest_message_age_max_seconds
  # however fast it drains (4 h: above a full counties backfill, pipeline README "Alarms during a backfill").
  alarm_thresholds = {
    lambda_errors                        = 0
    lambda_throttles                     = 0
    queue_oldest_message_age_seconds     = 1800
    queue_oldest_message_age_max_seconds = 14400
  }
}
