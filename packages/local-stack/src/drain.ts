import { type DrainLeftover, DrainTimeoutError } from './errors.js';
import type { EventSourceMapping } from './event-source-mapping.js';

export interface DrainOptions {
  /** Give up after this many milliseconds (real time) and throw `DrainTimeoutError`; default 120000. */
  readonly timeoutMs?: number;
  /**
   * Give up, with `DrainTimeoutError`, when nothing has moved for this many milliseconds (no
   * invocation started or ended, no queue count changed), however long the drain has run; default
   * none. A long load that keeps progressing (a county backfill) is then bounded by this, not by
   * `timeoutMs`. It must exceed the longest single invocation.
   */
  readonly stallTimeoutMs?: number;
  /** How long every queue must stay empty, with nothing running, before the drain ends; default 20 ms. */
  readonly idleMs?: number;
  /**
   * The longest the drain waits between two looks at the queues; default 5 ms. It looks as
   * soon as any mapping's poll ends, too (`onPollEnd`), so a drain ends right after the
   * invocation that empties the queues, not at its next look.
   */
  readonly pollIntervalMs?: number;
  /** Called every `progressIntervalMs` with the counts, e.g. for a progress line. */
  readonly onProgress?: (progress: DrainProgress) => void;
  /** Default 250 ms. */
  readonly progressIntervalMs?: number;
}

/** The state of one mapping's source queue (and its DLQ, when it has one). */
export interface QueueDrainState {
  readonly queue: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly runningInvocations: number;
  readonly deadLetterQueue?: { readonly name: string; readonly messages: number };
}

export interface DrainProgress {
  readonly elapsedMs: number;
  /** Handler invocations since the drain started. */
  readonly invocations: number;
  readonly queues: readonly QueueDrainState[];
}

export type DrainResult = DrainProgress;

/**
 * Runs every mapping until all their source queues are empty (nothing visible, nothing in
 * flight) and no invocation is running (a poll waiting for messages holds none), for `idleMs`
 * in a row, looking whenever a poll ends and at least every `pollIntervalMs`: every message was then either
 * processed or parked in a DLQ. Failed messages are redelivered after their (scaled)
 * visibility timeout for real, so redrive to the DLQ happens as in AWS. Mappings started here
 * are stopped before it returns. Throws `DrainTimeoutError` listing what is left after
 * `timeoutMs`, and rethrows an infrastructure error that stopped a mapping. Needs the system
 * clock (a `ManualClock` never lets a visibility timeout expire).
 */
export async function drain(mappings: readonly EventSourceMapping[], options: DrainOptions = {}): Promise<DrainResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const idleMs = options.idleMs ?? 20;
  const progressIntervalMs = options.progressIntervalMs ?? 250;
  const pollIntervalMs = options.pollIntervalMs ?? 5;
  const started = performance.now();
  const invocationsBefore = mappings.map((m) => m.stats.invocations);
  const startedHere = mappings.filter((m) => !m.isRunning);
  for (const mapping of startedHere) mapping.start();

  const snapshot = (): DrainProgress => ({
    elapsedMs: Math.round(performance.now() - started),
    invocations: mappings.reduce((sum, m, i) => sum + m.stats.invocations - (invocationsBefore[i] ?? 0), 0),
    queues: mappings.map(queueState),
  });

  let emptySince: number | undefined;
  let lastProgress = Number.NEGATIVE_INFINITY;
  let lastState = '';
  let lastMove = started;
  try {
    for (;;) {
      const failed = mappings.find((m) => m.failure !== undefined);
      if (failed) throw failed.failure;
      const now = performance.now();
      if (options.onProgress && now - lastProgress >= progressIntervalMs) {
        lastProgress = now;
        options.onProgress(snapshot());
      }
      // One synchronous look at every queue and mapping, with no clock in it: a message counts
      // whether it is visible or not, so one whose visibility timeout runs out during the look
      // is never missed.
      const idle = mappings.every((m) => m.runningInvocations === 0 && m.queue.size === 0);
      if (!idle) emptySince = undefined;
      else if (emptySince === undefined) emptySince = now;
      if (emptySince !== undefined && now - emptySince >= idleMs) {
        const result = snapshot();
        options.onProgress?.(result);
        return result;
      }
      if (options.stallTimeoutMs !== undefined) {
        const state = JSON.stringify([mappings.map((m) => m.stats.invocations), mappings.map(queueState)]);
        if (state !== lastState) {
          lastState = state;
          lastMove = now;
        } else if (now - lastMove >= options.stallTimeoutMs) {
          throw new DrainTimeoutError(options.stallTimeoutMs, leftoversOf(mappings), { stalled: true });
        }
      }
      if (now - started >= timeoutMs) {
        throw new DrainTimeoutError(timeoutMs, leftoversOf(mappings));
      }
      await nextLook(mappings, pollIntervalMs);
    }
  } finally {
    // A hanging handler must not hang the caller too: wait for running batches a short while only.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(startedHere.map((m) => m.stop())),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 2_000);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** Resolves when a mapping's poll ends, or after `ms` at the latest. */
function nextLook(mappings: readonly EventSourceMapping[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const stops: (() => void)[] = [];
    const timer = setTimeout(look, ms);
    function look() {
      clearTimeout(timer);
      for (const stop of stops) stop();
      resolve();
    }
    for (const mapping of mappings) stops.push(mapping.onPollEnd(look));
  });
}

function leftoversOf(mappings: readonly EventSourceMapping[]): DrainLeftover[] {
  return mappings.map(queueState).filter((q) => q.visible + q.inFlight + q.runningInvocations > 0);
}

function queueState(mapping: EventSourceMapping): QueueDrainState {
  const { queue } = mapping;
  const dlq = queue.redrive?.deadLetterQueue;
  const { visible, notVisible } = queue.counts();
  return {
    queue: queue.name,
    visible,
    inFlight: notVisible,
    runningInvocations: mapping.runningInvocations,
    ...(dlq ? { deadLetterQueue: { name: dlq.name, messages: dlq.size } } : {}),
  };
}
