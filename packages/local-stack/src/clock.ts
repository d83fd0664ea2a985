import type { Clock } from '@covid-etl/contracts';

export { type Clock, systemClock } from '@covid-etl/contracts';

/**
 * A clock that only moves when told to: makes visibility timeouts and timestamps
 * deterministic in tests. Timers (`setTimeout`) are not affected; use it with `pollOnce()`,
 * not with `drain()`.
 */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number | Date = Date.UTC(2026, 10, 25, 0, 0, 0)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ${ms} is not a non-negative number`);
    this.#now += ms;
  }
}

/** Resolves after `ms` milliseconds (real time); resolves early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
