import { FetcherInput, type FetcherResult } from '@covid-etl/contracts';
import { type HandlerOptions, PermanentError, withCostMeter } from '@covid-etl/platform';
import middy from '@middy/core';
import { FINISH_MARGIN_MS, fetcherDeadline } from './deadline.js';
import { type StartRunDeps, startRun } from './use-cases/start-run.js';

export { FetcherDeadlineError, FINISH_MARGIN_MS, fetcherDeadline } from './deadline.js';

export { allowedHostsFromEnv, qualityGatesFromEnv } from './gates-config.js';
export { DEFAULT_MAX_SOURCE_BYTES, geoLevelsFromEnv, geoUrlsFromEnv, maxSourceBytesFromEnv } from './geo-config.js';
export * from './source-downloader.js';
export { type HostResolver, isInternalAddress, SourceUrlRefusedError, UrlPolicy } from './url-policy.js';
export { RunDecisionError } from './use-cases/decide-run.js';
export { evaluateGates, type GateInput, type SeriesDay } from './use-cases/gates.js';
export type { StartRunDeps as FetcherDeps } from './use-cases/start-run.js';
export { resolveSourceUrls, urlKey } from './use-cases/start-run.js';

/**
 * The fetcher's Lambda handler: validates the invocation input (from the schedule or a
 * person) and starts or joins a run. The same function runs in AWS (`handler.ts`) and in the
 * local stack; only `deps` differ. The run gets one deadline: the invocation's remaining time
 * minus `finishMarginMs` (default FINISH_MARGIN_MS), so a hanging source ends the run FAILED
 * before Lambda kills the function.
 */
export function createHandler(deps: StartRunDeps, options: HandlerOptions & { finishMarginMs?: number } = {}) {
  return middy<unknown, FetcherResult>({ timeoutEarlyInMillis: options.timeoutEarlyInMillis ?? 5 }).handler(
    async (event, context) => {
      const input = FetcherInput.safeParse(event ?? {});
      if (!input.success) {
        const problems = input.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
        throw new PermanentError(`Invalid fetcher input: ${problems.join('; ')}`);
      }
      const deadline = fetcherDeadline(context.getRemainingTimeInMillis(), options.finishMarginMs ?? FINISH_MARGIN_MS);
      // One cost meter per invocation: the run item gets what it spent (see costs.ts).
      return withCostMeter(() => startRun(input.data, deps, { deadline }));
    },
  );
}
