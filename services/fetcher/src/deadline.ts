import { PermanentError } from '@covid-etl/platform';

/**
 * Time kept back from the fetcher's Lambda timeout to record the run FAILED and publish its
 * outcome: a few ledger writes and one PutEvents.
 */
export const FINISH_MARGIN_MS = 10_000;

/** The fetcher's time ran out before the run could be dispatched (a source hung, or was too slow). */
export class FetcherDeadlineError extends PermanentError {
  constructor(stage: string) {
    super(`the fetcher ran out of time while ${stage}: a source was too slow or did not answer`);
    this.name = 'FetcherDeadlineError';
  }
}

/**
 * The one deadline of a fetcher invocation (epoch ms): the invocation's remaining time minus
 * `marginMs`, so the run can still be recorded FAILED before Lambda kills the function. Never
 * earlier than one second from now.
 */
export function fetcherDeadline(remainingMs: number, marginMs = FINISH_MARGIN_MS, now = Date.now()): number {
  return now + Math.max(1000, remainingMs - marginMs);
}

/** Throws a FetcherDeadlineError when `deadline` has passed. */
export function assertBeforeDeadline(deadline: number | undefined, stage: string): void {
  if (deadline !== undefined && Date.now() >= deadline) throw new FetcherDeadlineError(stage);
}
