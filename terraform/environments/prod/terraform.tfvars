# covid-etl, environment prod. REPLACE account_id (and the bucket name in versions.tf).
account_id = "222222222222"
region     = "us-east-1"

log_retention_in_days = 90
log_level             = "INFO"

# At least the event source mappings' maximum concurrency (2), so that throttling never
# counts toward maxReceiveCount.
reserved_concurrency = {
  transformer = 2
  loader      = 2
  notifier    = 2
}

stall_after_minutes = 30

# Only signed (SigV4) requests from principals allowed lambda:InvokeFunctionUrl.
dashboard_auth_type = "AWS_IAM"

fetcher_schedule_expression = "cron(0 0 * * ? *)"
fetcher_schedule_timezone   = "UTC"

deletion_protection_enabled  = true
event_archive_retention_days = 90

email_addresses       = ["covid-etl@example.com"]
alert_email_addresses = ["covid-etl-oncall@example.com"]

# Optional AWS Chatbot channel on the alerts topic (authorize the workspace once in the console):
# slack_team_id    = "T0123ABCD"
# slack_channel_id = "C0123ABCD"

alarm_thresholds = {
  lambda_errors                    = 0
  lambda_throttles                 = 0
  queue_oldest_message_age_seconds = 900
}
