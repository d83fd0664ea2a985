export { formatRunSummary, runStatus } from './format.js';
export * from './local/faults.js';
export {
  DEFAULT_TIME_SCALE,
  LOCAL_ENVIRONMENT,
  LocalPipeline,
  type LocalPipelineOptions,
  type LocalQueueSettings,
} from './local/pipeline.js';
export { localStateDir, REPO_ROOT } from './paths.js';
