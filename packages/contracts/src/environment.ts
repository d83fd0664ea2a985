/**
 * Names of the environment variables each function reads: the contract between the code
 * (which reads them once at start and fails fast) and the Terraform (which sets them).
 */
export const EnvVar = {
  /** Environment name: `local`, `dev`, `prod`. */
  Environment: 'ETL_ENVIRONMENT',
  DataTable: 'DATA_TABLE',
  LedgerTable: 'LEDGER_TABLE',
  TransformerQueueUrl: 'TRANSFORMER_QUEUE_URL',
  LoaderQueueUrl: 'LOADER_QUEUE_URL',
  EventBusName: 'EVENT_BUS_NAME',
  TopicArn: 'TOPIC_ARN',
  NytUrl: 'NYT_URL',
  JhuUrl: 'JHU_URL',
  /** The publisher's per-state file (`us-states.csv`). */
  StatesUrl: 'STATES_URL',
  /** The full per-county file (`us-counties.csv`), read by a counties backfill. */
  CountiesUrl: 'COUNTIES_URL',
  /** The last 30 days of the per-county file (`us-counties-recent.csv`), read by the daily run. */
  CountiesRecentUrl: 'COUNTIES_RECENT_URL',
  /** Comma-separated geography levels the environment loads: `nation`, `state`, `county`. */
  GeoLevels: 'GEO_LEVELS',
  /** Largest source body the fetcher accepts, in bytes. */
  MaxSourceBytes: 'MAX_SOURCE_BYTES',
  /** SSM SecureString parameter holding the Slack incoming-webhook URL. */
  SlackWebhookParameter: 'SLACK_WEBHOOK_PARAMETER',
  /** Minutes after which an unfinished run is reported as stalled. */
  StallAfterMinutes: 'STALL_AFTER_MINUTES',
  LogLevel: 'LOG_LEVEL',
  /** Optional JSON object overriding DEFAULT_QUALITY_GATES (see `QualityGates`). */
  QualityGates: 'QUALITY_GATES',
  /** Optional comma-separated host names a source URL (and every redirect hop) may use. */
  SourceAllowedHosts: 'SOURCE_ALLOWED_HOSTS',
} as const;

/** Which variables each deployed function needs. */
export const FUNCTION_ENV = {
  fetcher: [
    EnvVar.Environment,
    EnvVar.DataTable,
    EnvVar.LedgerTable,
    EnvVar.TransformerQueueUrl,
    EnvVar.EventBusName,
    EnvVar.NytUrl,
    EnvVar.JhuUrl,
  ],
  transformer: [EnvVar.Environment, EnvVar.LedgerTable, EnvVar.LoaderQueueUrl],
  loader: [EnvVar.Environment, EnvVar.DataTable, EnvVar.LedgerTable, EnvVar.EventBusName],
  notifier: [EnvVar.Environment, EnvVar.LedgerTable, EnvVar.TopicArn],
  slackForwarder: [EnvVar.SlackWebhookParameter],
  watchdog: [EnvVar.Environment, EnvVar.LedgerTable, EnvVar.EventBusName, EnvVar.StallAfterMinutes],
  dashboard: [EnvVar.Environment, EnvVar.DataTable, EnvVar.LedgerTable],
} as const;
