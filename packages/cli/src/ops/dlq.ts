import type { ChunkItem } from '@covid-etl/platform';
import { type Output, UsageError } from '../commands/output.js';
import { formatDuration, formatTable, runStatus } from '../format.js';
import type { Sleep } from './aws-call.js';
import {
  type DeadLetterQueue,
  type DlqMessage,
  describeMessage,
  type MessageSubject,
  type MoveTask,
  type OperatorBackend,
  STANDALONE_DLQS,
} from './backend.js';
import { confirmChange, type Prompt } from './confirm.js';
import { OperatorError } from './errors.js';
import { withBackend } from './open.js';
import { describeMoveProgress, followMoveTask, moveOneByOne } from './replay.js';

/** What every operator command gets besides its options; tests replace the parts they need. */
export interface CommandDeps {
  out: Output;
  /** Opens the backend of an environment (default: `openBackend`). */
  open?: (environment: string) => Promise<OperatorBackend>;
  prompt?: Prompt;
  sleep?: Sleep;
  /** Poll interval of move tasks and runs. */
  pollMs?: number;
  now?: () => number;
}

/** Most messages a peek or a replay plan reads. */
export const MAX_PEEK = 1000;

/**
 * Finds a DLQ by what the operator typed: a key (`transformer`, `loader`, `notifier`, or in AWS
 * `events`, `fetcher_schedule`, `counties_backfill_schedule`, `watchdog_schedule`, `async`, or
 * any key of the environment's `operator_config.dead_letter_queues`; `-` and `_` alike), or a
 * full name. A deployed-only key given locally is refused saying so.
 */
export function resolveDlq(backend: OperatorBackend, given: string): DeadLetterQueue {
  const queues = backend.deadLetterQueues();
  const wanted = given.trim().replace(/-/g, '_');
  const found = queues.find(
    (q) =>
      q.key.replace(/-/g, '_') === wanted ||
      q.name === given.trim() ||
      q.url === given.trim() ||
      q.arn === given.trim(),
  );
  if (!found && backend.kind === 'local' && wanted in STANDALONE_DLQS) {
    throw new UsageError(
      `${wanted} exists only in a deployed environment (the local stack has no schedules, event rule or async invocations): add --env <environment>`,
    );
  }
  if (!found) {
    throw new UsageError(
      `No dead-letter queue "${given}" in ${backend.environment}: use one of ${queues.map((q) => q.key).join(', ')} (or its full name: ${queues.map((q) => q.name).join(', ')})`,
    );
  }
  return found;
}

function replaysTo(dlq: DeadLetterQueue): string {
  const target = dlq.target;
  if (!target) return '-';
  if (target.kind === 'queue') return `${target.name}${target.redrive ? '' : ' (one by one)'}`;
  if (target.kind === 'function') return `invoke ${target.functionName}`;
  return 'invoke the function named in each message';
}

/** `etl dlq list`: every DLQ of the environment with its depth and the age of its oldest message. */
export async function dlqListCommand(options: { env: string; json?: boolean }, deps: CommandDeps): Promise<number> {
  return withBackend(
    options.env,
    async (backend) => {
      const rows = [];
      for (const dlq of backend.deadLetterQueues()) {
        const depth = await backend.depth(dlq);
        rows.push({
          key: dlq.key,
          name: dlq.name,
          messages: depth.visible,
          inFlight: depth.inFlight,
          oldestAgeMs: depth.oldestAgeMs,
          ageBasis: depth.ageBasis,
          replaysTo: replaysTo(dlq),
          holds: dlq.description,
        });
      }
      if (options.json) {
        deps.out.result(rows);
        return 0;
      }
      const lines = [
        `Dead-letter queues of ${backend.environment} (${backend.source}):`,
        formatTable(
          [
            { title: 'QUEUE' },
            { title: 'DLQ' },
            { title: 'MESSAGES', numeric: true },
            { title: 'IN FLIGHT', numeric: true },
            { title: 'OLDEST' },
            { title: 'REPLAYS TO' },
          ],
          rows.map((r) => [
            r.key,
            r.name,
            r.messages.toLocaleString('en-US'),
            r.inFlight.toLocaleString('en-US'),
            r.oldestAgeMs === null ? '-' : formatDuration(r.oldestAgeMs),
            r.replaysTo,
          ]),
        ),
      ];
      if (rows.some((r) => r.messages > 0 && r.ageBasis === 'sample')) {
        lines.push(
          '\nOLDEST: since the message was first sent, from the messages one receive returned (up to 10, handed back at once);',
          "CloudWatch's ApproximateAgeOfOldestMessage (the alarms) is the exact figure.",
        );
      }
      const parked = rows.filter((r) => r.messages > 0);
      if (parked.length > 0) {
        const env = backend.environment === 'local' ? '' : ` --env ${backend.environment}`;
        lines.push(
          `\nLook: pnpm etl dlq peek ${parked[0]?.key}${env}    Replay: pnpm etl dlq replay ${parked[0]?.key}${env}`,
        );
      }
      deps.out.result(lines.join('\n'));
      return 0;
    },
    deps.open,
  );
}

/** A DLQ message with what the ledger knows about it. */
export interface PeekedMessage extends MessageSubject {
  messageId: string;
  receiveCount: number;
  firstReceivedAt: string | null;
  sentAt: string | null;
  /** The last error a handler recorded for this run and month (`getChunk().lastError`). */
  lastError: ChunkItem['lastError'] | null;
  /** Error attributes AWS adds to rule-target and schedule DLQ messages (ERROR_CODE, ERROR_MESSAGE, …). */
  errorAttributes?: Record<string, string>;
  bodyBytes: number;
}

async function annotate(backend: OperatorBackend, message: DlqMessage): Promise<PeekedMessage> {
  const subject = describeMessage(message.body);
  const chunk =
    subject.kind === 'chunk' && subject.runId && subject.month
      ? await backend.ledger.getChunk(subject.runId, subject.month)
      : undefined;
  const errorAttributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    if (/error|execution|rule|target|schedule/i.test(name) && value.StringValue !== undefined) {
      errorAttributes[name] = value.StringValue;
    }
  }
  return {
    messageId: message.messageId,
    ...subject,
    receiveCount: message.receiveCount,
    firstReceivedAt: message.firstReceivedAt,
    sentAt: message.sentAt,
    lastError: chunk?.lastError ?? null,
    ...(Object.keys(errorAttributes).length > 0 ? { errorAttributes } : {}),
    bodyBytes: Buffer.byteLength(message.body),
  };
}

function parseCount(flag: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${flag} ${value}: expected a whole number from 1 to ${max}`);
  return n;
}

/**
 * `etl dlq peek <queue>`: the messages of a DLQ without consuming them (AWS: received with a
 * short visibility timeout and handed back at once), with the last error the ledger recorded
 * for each chunk.
 */
export async function dlqPeekCommand(
  queue: string,
  options: { env: string; max?: string; json?: boolean },
  deps: CommandDeps,
): Promise<number> {
  const max = parseCount('--max', options.max, 10, MAX_PEEK);
  return withBackend(
    options.env,
    async (backend) => {
      const dlq = resolveDlq(backend, queue);
      const depth = await backend.depth(dlq, { age: false });
      const messages = await Promise.all((await backend.peek(dlq, max)).map((m) => annotate(backend, m)));
      if (options.json) {
        deps.out.result({ queue: dlq.name, key: dlq.key, depth: depth.visible, inFlight: depth.inFlight, messages });
        return 0;
      }
      if (messages.length === 0) {
        deps.out.result(`${dlq.name} is empty${depth.inFlight ? ` (${depth.inFlight} message(s) in flight)` : ''}.`);
        return 0;
      }
      const lines = [`${dlq.name}: ${depth.visible} message(s), showing ${messages.length}`];
      for (const m of messages) {
        const what =
          m.kind === 'chunk'
            ? `run ${m.runId} month ${m.month}`
            : m.kind === 'event'
              ? `${m.detailType} of run ${m.runId ?? '?'}`
              : m.kind === 'invocation'
                ? `invocation${m.runId ? ` for run ${m.runId}` : ''}`
                : `message ${m.messageId}`;
        lines.push(
          `  ${what}: ${m.receiveCount} receive(s), first received ${m.firstReceivedAt ?? '-'}, sent ${m.sentAt ?? '-'}`,
        );
        if (m.lastError) {
          lines.push(
            `    last error (${m.lastError.stage}, ${m.lastError.at}${m.lastError.receiveCount ? `, receive ${m.lastError.receiveCount}` : ''}): ${m.lastError.message}`,
          );
        } else if (m.kind === 'chunk') {
          lines.push('    no error recorded in the ledger');
        }
        for (const [name, value] of Object.entries(m.errorAttributes ?? {})) lines.push(`    ${name}: ${value}`);
      }
      if (depth.visible > messages.length) lines.push(`  … and ${depth.visible - messages.length} more (--max)`);
      deps.out.result(lines.join('\n'));
      return 0;
    },
    deps.open,
  );
}

export interface ReplayOptions {
  env: string;
  rate?: string;
  dryRun?: boolean;
  yes?: boolean;
  run?: string;
  cancel?: boolean;
  json?: boolean;
  timeout?: string;
}

interface RunPlan {
  runId: string;
  messages: number;
  months: string[];
}

function planOf(messages: DlqMessage[]): RunPlan[] {
  const runs = new Map<string, RunPlan>();
  for (const message of messages) {
    const subject = describeMessage(message.body);
    const runId = subject.runId ?? '(unknown run)';
    const plan = runs.get(runId) ?? { runId, messages: 0, months: [] };
    plan.messages += 1;
    if (subject.month) plan.months.push(subject.month);
    runs.set(runId, plan);
  }
  return [...runs.values()].map((p) => ({ ...p, months: p.months.sort() }));
}

/**
 * `etl dlq replay <queue>`: puts a DLQ's messages back where they came from.
 * - Whole DLQ of a work queue in AWS: one SQS message move task (StartMessageMoveTask without
 *   DestinationArn, so messages return to their source queue; `--rate` up to 500/s),
 *   followed with ListMessageMoveTasks until it ends; a task already running is followed
 *   instead of starting another; `--cancel` stops it (CancelMessageMoveTask).
 * - `--run <runId>`, and DLQs that SQS cannot redrive (rule target, schedules, async
 *   invocations): one message at a time, receive → deliver → delete (see `moveOneByOne`).
 * - Locally: `moveMessagesTo` (or the one-by-one path), then the queues drain so the affected
 *   runs finish, and their new status is printed.
 * In `prod` it asks first unless `--yes`; `--dry-run` only shows what would move.
 */
export async function dlqReplayCommand(queue: string, options: ReplayOptions, deps: CommandDeps): Promise<number> {
  const rate = options.rate === undefined ? undefined : parseCount('--rate', options.rate, 0, 500);
  const timeoutMs = parseCount('--timeout', options.timeout, 60, 24 * 60) * 60_000;
  if (options.cancel && (options.dryRun || options.run)) {
    throw new UsageError('--cancel stops a running move task: it does not go with --dry-run or --run');
  }
  return withBackend(
    options.env,
    async (backend) => {
      const dlq = resolveDlq(backend, queue);
      const target = dlq.target;
      if (!target) {
        throw new OperatorError(
          `${dlq.name} has nowhere to replay its messages to: its operator configuration gives no known replay_to (apply the current Terraform)`,
        );
      }
      const replay: Replay = {
        backend,
        dlq,
        options,
        deps,
        rate,
        redrive: target.kind === 'queue' && target.redrive && !options.run,
        follow: { pollMs: deps.pollMs, sleep: deps.sleep, now: deps.now, timeoutMs },
      };
      if (options.cancel) return cancelMoveTask(replay);
      if (replay.redrive && !options.dryRun) {
        const running = await backend.latestMoveTask(dlq);
        if (running?.status === 'RUNNING') return followRunningMoveTask(replay, running);
      }
      const inQueue = await backend.peek(dlq, MAX_PEEK);
      const selected = options.run ? inQueue.filter((m) => describeMessage(m.body).runId === options.run) : inQueue;
      const batch: ReplayBatch = { inQueue, selected, plan: planOf(selected) };
      if (options.dryRun) return showReplayPlan(replay, batch);
      if (selected.length === 0) {
        report(
          replay,
          { queue: dlq.name, target: replaysTo(dlq), moved: 0, runs: [] },
          options.run
            ? `No message of run ${options.run} in ${dlq.name}: nothing to replay.`
            : `${dlq.name} is empty: nothing to replay.`,
        );
        return 0;
      }
      await confirmReplay(replay, batch);
      return replay.redrive ? redriveWithMoveTask(replay, batch) : replayOneByOne(replay, batch);
    },
    deps.open,
  );
}

/** One `etl dlq replay`: the queue, the options and what every mode needs. */
interface Replay {
  backend: OperatorBackend;
  dlq: DeadLetterQueue;
  options: ReplayOptions;
  deps: CommandDeps;
  rate: number | undefined;
  /** True when SQS moves the messages (a move task), false for one message at a time. */
  redrive: boolean;
  follow: Parameters<typeof followMoveTask>[3];
}

/** The DLQ's messages as peeked, those the replay selects, and their runs. */
interface ReplayBatch {
  inQueue: DlqMessage[];
  selected: DlqMessage[];
  plan: RunPlan[];
}

function report(replay: Replay, json: unknown, text: string): void {
  replay.deps.out.result(replay.options.json ? json : text);
}

function describePlan(plan: RunPlan[]): string[] {
  return plan.map(
    (p) => `  run ${p.runId}: ${p.messages} message(s)${p.months.length ? ` (${summarizeMonths(p.months)})` : ''}`,
  );
}

/** `--cancel`: stops the running move task and follows it to its end. */
async function cancelMoveTask(replay: Replay): Promise<number> {
  const { backend, dlq, deps } = replay;
  const task = await backend.latestMoveTask(dlq);
  if (task?.status !== 'RUNNING' || !task.taskHandle) {
    throw new OperatorError(
      `No move task is running on ${dlq.name}${task ? ` (the last one is ${task.status}, ${describeMoveProgress(task)})` : ''}`,
    );
  }
  const { moved } = await backend.cancelMove(dlq, task.taskHandle);
  deps.out.progress(`Cancelling the move task of ${dlq.name} (${moved} moved so far)`);
  const final = await followMoveTask(backend, dlq, deps.out, replay.follow);
  report(
    replay,
    { queue: dlq.name, mode: 'cancel', task: final, moved: final.moved },
    `Move task of ${dlq.name}: ${final.status}, ${describeMoveProgress(final)}.`,
  );
  return 0;
}

/** A move task already runs on the DLQ: follow it instead of starting another. */
async function followRunningMoveTask(replay: Replay, running: MoveTask): Promise<number> {
  const { backend, dlq, deps } = replay;
  deps.out.progress(
    `A move task is already running on ${dlq.name} (started ${running.startedAt ?? '?'}, ${describeMoveProgress(running)}): following it`,
  );
  return finishMove(replay, await followMoveTask(backend, dlq, deps.out, replay.follow), []);
}

/** `--dry-run`: what would move, where, and how; changes nothing. */
async function showReplayPlan(replay: Replay, { inQueue, selected, plan }: ReplayBatch): Promise<number> {
  const { backend, dlq, redrive } = replay;
  const destination = replaysTo(dlq);
  const running = redrive ? await backend.latestMoveTask(dlq) : undefined;
  const note =
    running?.status === 'RUNNING'
      ? [
          `  (a move task is already running on ${dlq.name}: ${describeMoveProgress(running)}; a replay would follow it)`,
        ]
      : [];
  report(
    replay,
    {
      queue: dlq.name,
      target: destination,
      dryRun: true,
      mode: redrive ? 'move-task' : 'one-by-one',
      wouldMove: selected.length,
      runs: plan,
    },
    [
      `Would replay ${selected.length} message(s) from ${dlq.name} to ${destination}${redrive ? ' with an SQS message move task' : ', one by one'}:`,
      ...describePlan(plan),
      ...(inQueue.length >= MAX_PEEK ? [`  (looked at the first ${MAX_PEEK} messages only)`] : []),
      ...note,
    ].join('\n'),
  );
  return 0;
}

/** Asks before a replay (in `prod`, unless `--yes`). */
async function confirmReplay({ backend, dlq, options, deps }: Replay, { inQueue, selected, plan }: ReplayBatch) {
  await confirmChange(
    backend.environment,
    {
      yes: options.yes,
      what: `replay ${dlq.name}`,
      question: [
        `Replay ${selected.length}${inQueue.length >= MAX_PEEK && !options.run ? '+' : ''} message(s) from ${dlq.name} to ${replaysTo(dlq)} in ${backend.environment}?`,
        ...describePlan(plan),
        '',
      ].join('\n'),
    },
    deps.prompt,
  );
}

/** The whole DLQ back to its source queue with one move task, followed to its end. */
async function redriveWithMoveTask(replay: Replay, { plan }: ReplayBatch): Promise<number> {
  const { backend, dlq, deps } = replay;
  deps.out.progress(backend.describeMoveStart(dlq, replaysTo(dlq), replay.rate));
  let task: MoveTask;
  try {
    task = await backend.startMove(dlq, replay.rate);
  } catch (error) {
    const running = await backend.latestMoveTask(dlq).catch(() => undefined);
    if (running?.status !== 'RUNNING') throw error;
    deps.out.progress(`A move task is already running on ${dlq.name}: following it`);
    task = running;
  }
  if (task.status === 'RUNNING') task = await followMoveTask(backend, dlq, deps.out, replay.follow);
  return finishMove(
    replay,
    task,
    plan.map((p) => p.runId),
  );
}

/** `--run`, or a DLQ SQS cannot redrive: receive → deliver → delete, one message at a time. */
async function replayOneByOne(replay: Replay, { inQueue, selected }: ReplayBatch): Promise<number> {
  const { backend, dlq, options, deps } = replay;
  const out = deps.out;
  out.progress(`Replaying ${selected.length} message(s) one by one: ${dlq.name} → ${replaysTo(dlq)}`);
  const wanted = new Set(selected.map((m) => m.messageId));
  const select = options.run
    ? (m: DlqMessage) => describeMessage(m.body).runId === options.run
    : (m: DlqMessage) => wanted.has(m.messageId) || inQueue.length >= MAX_PEEK;
  const result = await moveOneByOne(backend, dlq, select, {
    onProgress: (moved) => out.progress(`  ${moved} / ${selected.length} moved`, { transient: true }),
  });
  out.progress('', { transient: true, done: true });
  return finishMove(
    replay,
    { status: 'COMPLETED', moved: result.moved.length, toMove: selected.length },
    [...new Set(result.moved.map((m) => describeMessage(m.body).runId).filter((r): r is string => Boolean(r)))],
    result.left,
  );
}

/** Reports a replay's end with the status of each replayed run; exit 0 only when it completed. */
async function finishMove(replay: Replay, task: MoveTask, runIds: string[], left?: number): Promise<number> {
  const { backend, dlq, options, deps } = replay;
  const hint = await backend.afterReplay(task, runIds, (line, lineOptions) => deps.out.progress(line, lineOptions));
  const runs = [];
  for (const runId of runIds) {
    const run = await backend.ledger.getRun(runId);
    const chunks = run ? await backend.ledger.listChunks(runId) : [];
    runs.push({
      runId,
      status: run ? runStatus(run) : 'unknown',
      chunksLoaded: chunks.filter((c) => c.stage === 'LOADED').length,
      chunksExpected: run?.months.length ?? 0,
    });
  }
  const lines = [
    `Replay of ${dlq.name}: ${task.status}, ${describeMoveProgress(task)} to ${replaysTo(dlq)}.`,
    ...(task.failureReason ? [`  failure: ${task.failureReason}`] : []),
    ...(left ? [`  ${left} message(s) of other runs left in ${dlq.name}`] : []),
    ...runs.map((r) => `  run ${r.runId}: ${r.status}, ${r.chunksLoaded}/${r.chunksExpected} chunks loaded`),
    ...(hint ? [hint] : []),
  ];
  report(
    replay,
    {
      queue: dlq.name,
      target: replaysTo(dlq),
      mode: dlq.target?.kind === 'queue' && dlq.target.redrive && !options.run ? 'move-task' : 'one-by-one',
      moved: task.moved,
      task,
      ...(left !== undefined ? { left } : {}),
      runs,
    },
    lines.join('\n'),
  );
  return task.status === 'COMPLETED' ? 0 : 1;
}

/** "2020-01 .. 2023-03 (39 months)" or "2020-03, 2020-07". */
function summarizeMonths(months: string[]): string {
  if (months.length <= 3) return months.join(', ');
  return `${months[0]} .. ${months[months.length - 1]}, ${months.length} months`;
}
