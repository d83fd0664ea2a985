import type { Output } from '../commands/output.js';
import { realSleep, type Sleep } from './aws-call.js';
import {
  type DeadLetterQueue,
  type MoveTask,
  type OperatorBackend,
  type ReceivedDlqMessage,
  TERMINAL_MOVE_STATUSES,
} from './backend.js';
import { OperatorError } from './errors.js';

/** How long messages received by a one-by-one replay stay hidden (a crash hands them back after this). */
export const ONE_BY_ONE_VISIBILITY_SECONDS = 120;

export interface OneByOneResult {
  moved: ReceivedDlqMessage[];
  /** Messages seen and left in the DLQ (not selected). */
  left: number;
}

/**
 * Moves the DLQ messages that `select` accepts to the DLQ's target one at a time: receive
 * (hidden for a while), deliver a copy with the same body and message attributes, and only
 * then delete the original. A crash between the two leaves the message in both places:
 * duplicated, never lost (the pipeline is idempotent per run and month). Messages not
 * selected, and any message whose delivery failed, are handed back (made visible) at the end.
 * Stops when a receive brings no message it has not seen.
 */
export async function moveOneByOne(
  backend: OperatorBackend,
  dlq: DeadLetterQueue,
  select: (message: ReceivedDlqMessage) => boolean,
  {
    onProgress,
    visibilitySeconds = ONE_BY_ONE_VISIBILITY_SECONDS,
  }: { onProgress?: (moved: number) => void; visibilitySeconds?: number } = {},
): Promise<OneByOneResult> {
  const seen = new Set<string>();
  const handBack: ReceivedDlqMessage[] = [];
  const moved: ReceivedDlqMessage[] = [];
  try {
    for (;;) {
      const batch = await backend.receive(dlq, visibilitySeconds);
      const fresh = batch.filter((message) => !seen.has(message.messageId));
      handBack.push(...batch.filter((message) => seen.has(message.messageId)));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.messageId);
        if (!select(message)) {
          handBack.push(message);
          continue;
        }
        try {
          await backend.deliver(dlq, message);
        } catch (error) {
          handBack.push(message);
          throw error;
        }
        // Only now that the copy is safely at the target is the original removed.
        await backend.deleteMessage(dlq, message);
        moved.push(message);
        onProgress?.(moved.length);
      }
    }
  } finally {
    await backend.release(dlq, handBack);
  }
  return { moved, left: seen.size - moved.length };
}

/**
 * Polls the DLQ's latest move task until it is COMPLETED, CANCELLED or FAILED, reporting
 * "moved / to move" as it goes. Throws after `timeoutMs` (the task goes on in AWS).
 */
export async function followMoveTask(
  backend: OperatorBackend,
  dlq: DeadLetterQueue,
  out: Output,
  {
    pollMs = 2000,
    timeoutMs = 60 * 60_000,
    sleep = realSleep,
    now = Date.now,
  }: { pollMs?: number; timeoutMs?: number; sleep?: Sleep; now?: () => number } = {},
): Promise<MoveTask> {
  const started = now();
  for (;;) {
    const task = await backend.latestMoveTask(dlq);
    if (task) {
      out.progress(`  ${dlq.name}: ${task.status}, ${describeMoveProgress(task)}`, { transient: true });
      if (TERMINAL_MOVE_STATUSES.includes(task.status)) {
        out.progress('', { transient: true, done: true });
        return task;
      }
    }
    if (now() - started > timeoutMs) {
      out.progress('', { transient: true, done: true });
      throw new OperatorError(
        `The move task of ${dlq.name} is still ${task?.status ?? 'not listed'} after ${Math.round(timeoutMs / 60_000)} min; ` +
          'it goes on in AWS. Run the same replay command again to follow it, or add --cancel to stop it.',
      );
    }
    await sleep(pollMs);
  }
}

/** "12 / 39 moved" (or "12 moved" before SQS has counted what to move). */
export function describeMoveProgress(task: MoveTask): string {
  return task.toMove === undefined ? `${task.moved} moved` : `${task.moved} / ${task.toMove} moved`;
}
