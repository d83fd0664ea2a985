/**
 * Runs `attempt` until it reports nothing left to do, at most `maxAttempts` times, with full
 * jitter exponential backoff between attempts (base `baseDelayMs`, capped at `maxDelayMs`).
 * `attempt` returns the work still pending (or an empty array when done); the function
 * returns what is still pending after the last attempt.
 */
export async function retryPending<T>(
  initial: T[],
  attempt: (pending: T[]) => Promise<T[]>,
  { maxAttempts = 5, baseDelayMs = 100, maxDelayMs = 5_000 } = {},
): Promise<T[]> {
  let pending = initial;
  for (let round = 0; round < maxAttempts && pending.length > 0; round += 1) {
    if (round > 0) await sleep(backoffDelay(round, baseDelayMs, maxDelayMs));
    pending = await attempt(pending);
  }
  return pending;
}

/** Full-jitter exponential backoff delay for retry `round` (1-based). */
export function backoffDelay(round: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** round);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Splits `items` into arrays of at most `size`. */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
