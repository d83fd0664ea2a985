# The covid-etl pipeline, environment "prod": every setting of the environment is written here.

locals {
  # REPLACE with your prod account id (and the bucket name in versions.tf).
  account_id = "222222222222"
  region     = "us-east-1"
}

module "pipeline" {
  source = "../../modules/pipeline"

  environment   = "prod"
  account_id    = local.account_id
  region        = local.region
  artifacts_dir = "${path.root}/../../../services"

  log_retention_in_days = 90
  log_level             = "INFO"

  # Every function has a cap, so no burst (on the dashboard, say) can take the account's
  # concurrency; consumers need at least their queue's maximumConcurrency (2), so that
  # throttling never counts toward maxReceiveCount.
  reserved_concurrency = {
    fetcher         = 1
    transformer     = 2
    loader          = 2
    notifier        = 2
    slack-forwarder = 2
    watchdog        = 1
    dashboard       = 5
  }

  stall_after_minutes = 30

  # Source URLs and every redirect hop may only use these hosts (docs/architecture.md, Trust boundary).
  source_allowed_hosts = ["raw.githubusercontent.com"]

  # Only signed (SigV4) requests from principals allowed lambda:InvokeFunctionUrl.
  dashboard_public_url = false

  fetcher_schedule_expression = "cron(0 0 * * ? *)"
  fetcher_schedule_timezone   = "UTC"

  # Every level. The daily run reads the 30-day county file; once a month (06:00 UTC on the 1st,
  # apart from the daily 00:00 run) the full county file picks up revisions older than 30 days.
  geo_levels                            = ["nation", "state", "county"]
  counties_backfill_schedule_expression = "cron(0 6 1 * ? *)"

  deletion_protection_enabled  = true
  event_archive_retention_days = 90

  email_addresses       = ["covid-etl@example.com"]
  alert_email_addresses = ["covid-etl-oncall@example.com"]

  # Optional AWS Chatbot channel on the alerts topic (authorize the workspace once in the console):
  # slack_team_id    = "T0123ABCD"
  # slack_channel_id = "C0123ABCD"

  # A work queue alarms when its oldest message is older than queue_oldest_message_age_seconds
  # and nothing was consumed for 5 minutes, or older than queue_oldest_message_age_max_seconds
  # however fast it drains (4 h: above a full counties backfill, pipeline README "Alarms during a backfill").
  alarm_thresholds = {
    lambda_errors                        = 0
    lambda_throttles                     = 0
    queue_oldest_message_age_seconds     = 900
    queue_oldest_message_age_max_seconds = 14400
  }
}
