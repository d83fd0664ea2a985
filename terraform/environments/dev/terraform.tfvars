# covid-etl, environment dev. REPLACE account_id (and the bucket name in versions.tf).
account_id = "111111111111"
region     = "us-east-1"

log_retention_in_days = 14
log_level             = "DEBUG"

# A new account may have a concurrency limit of 10, which leaves nothing to reserve.
reserved_concurrency = {}

stall_after_minutes = 30

# Public, read-only dashboard of public data. Needs one command after apply (README, Deploy).
dashboard_auth_type = "NONE"

fetcher_schedule_expression = "cron(0 0 * * ? *)"
fetcher_schedule_timezone   = "UTC"

deletion_protection_enabled  = false
event_archive_retention_days = 14

email_addresses = ["covid-etl-dev@example.com"]

alarm_thresholds = {
  lambda_errors                    = 0
  lambda_throttles                 = 0
  queue_oldest_message_age_seconds = 1800
}
