/**
 * @covid-etl/local-pipeline: a composition root. The one place that wires the services'
 * handlers onto the embedded local stack (`LocalPipeline`), with the local adapters, the fault
 * injection of `ETL_FAULTS`, and the dashboard's local server (`pnpm dashboard`). Used by the
 * `etl` command and the Terraform tests; no library and no service imports it.
 */
export { LocalQueueSender } from './adapters.js';
export * from './faults.js';
export { LOCAL_ENVIRONMENT, LocalStateDirError, localStateDir, prepareLocalStateDir, REPO_ROOT } from './paths.js';
export {
  DEFAULT_TIME_SCALE,
  type DynamoRequest,
  LocalPipeline,
  type LocalPipelineOptions,
  type LocalQueueSettings,
  localDbMaxOpenFiles,
} from './pipeline.js';
export { DynamoRequestCounter, type ItemKind, kindOf, type TableRequests } from './request-counter.js';
