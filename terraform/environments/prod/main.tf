# The covid-etl pipeline, environment "prod". Settings are in terraform.tfvars.

module "pipeline" {
  source = "../../modules/pipeline"

  environment                  = "prod"
  account_id                   = var.account_id
  region                       = var.region
  artifacts_dir                = "${path.root}/../../../services"
  log_retention_in_days        = var.log_retention_in_days
  log_level                    = var.log_level
  reserved_concurrency         = var.reserved_concurrency
  stall_after_minutes          = var.stall_after_minutes
  dashboard_auth_type          = var.dashboard_auth_type
  fetcher_schedule_expression  = var.fetcher_schedule_expression
  fetcher_schedule_timezone    = var.fetcher_schedule_timezone
  deletion_protection_enabled  = var.deletion_protection_enabled
  event_archive_retention_days = var.event_archive_retention_days
  email_addresses              = var.email_addresses
  alert_email_addresses        = var.alert_email_addresses
  slack_team_id                = var.slack_team_id
  slack_channel_id             = var.slack_channel_id
  alarm_thresholds             = var.alarm_thresholds
}
