import type { HandlerOptions } from '@covid-etl/platform';
import middy from '@middy/core';
import { type CheckStalledRunsDeps, checkStalledRuns, type StalledRunsReport } from './use-cases/check-stalled-runs.js';

export type { CheckStalledRunsDeps as WatchdogDeps, StalledRunsReport } from './use-cases/check-stalled-runs.js';
export {
  checkStalledRuns,
  describePendingChunks,
  fetcherStoppedReason,
  stalledReason,
} from './use-cases/check-stalled-runs.js';

/** The watchdog's Lambda handler, invoked by a schedule every few minutes. */
export function createHandler(deps: CheckStalledRunsDeps, options: HandlerOptions = {}) {
  return middy<unknown, StalledRunsReport>({ timeoutEarlyInMillis: options.timeoutEarlyInMillis ?? 5 }).handler(
    async () => checkStalledRuns(deps),
  );
}
