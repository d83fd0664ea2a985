/**
 * The source of "now", injectable so tests (a hand-driven clock) and the local stack's scaled
 * time can control it. One type for the whole workspace: the services and platform read it for
 * timestamps, the local stack for visibility timeouts (`now().getTime()`).
 */
export interface Clock {
  now(): Date;
}

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };
