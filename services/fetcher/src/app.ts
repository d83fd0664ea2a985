import { FetcherInput, type FetcherResult } from '@covid-etl/contracts';
import { type HandlerOptions, PermanentError } from '@covid-etl/platform';
import middy from '@middy/core';
import { type StartRunDeps, startRun } from './use-cases/start-run.js';

export * from './source-downloader.js';
export type { StartRunDeps as FetcherDeps } from './use-cases/start-run.js';
export { resolveSourceUrls, SourceUrlRefusedError } from './use-cases/start-run.js';

/**
 * The fetcher's Lambda handler: validates the invocation input (from the schedule or a
 * person) and starts or joins a run. The same function runs in AWS (`handler.ts`) and in the
 * local stack; only `deps` differ.
 */
export function createHandler(deps: StartRunDeps, options: HandlerOptions = {}) {
  return middy<unknown, FetcherResult>({ timeoutEarlyInMillis: options.timeoutEarlyInMillis ?? 5 }).handler(
    async (event) => {
      const input = FetcherInput.safeParse(event ?? {});
      if (!input.success) {
        const problems = input.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
        throw new PermanentError(`Invalid fetcher input: ${problems.join('; ')}`);
      }
      return startRun(input.data, deps);
    },
  );
}
