import {
  type FetcherInput,
  type FetcherResult,
  type GeoChunkMessage,
  type LoadChunkMessage,
  type QueueKey,
  scheduledRunId,
} from '@covid-etl/contracts';
import type { DrainProgress } from '@covid-etl/local-stack';
import type {
  GeoLedger,
  GeoSeriesReader,
  GeoSeriesStore,
  HeldRunRepository,
  LedgerRepository,
  RunFinalizer,
  RunItem,
  SeriesRepository,
} from '@covid-etl/platform';
import { UsageError } from '../commands/output.js';

/** Where a dead-letter queue's messages go back to when replayed. */
export type ReplayTarget =
  /** The work queue whose redrive policy parks messages here (SQS redrive, or send one by one). */
  | { kind: 'queue'; key: QueueKey; name: string; url: string; arn: string; redrive: boolean }
  /** A function invoked with the message body (schedule DLQs: the schedule's input). */
  | { kind: 'function'; functionName: string }
  /** The function named in the message (Lambda on-failure destination records). */
  | { kind: 'record' };

/**
 * The DLQs without a work queue that the Terraform creates, by their key in
 * `operator_config.dead_letter_queues`: what they hold, and where they replay to in a
 * deployment whose configuration predates `replay_to` (the Terraform now says it for each).
 */
export const STANDALONE_DLQS: Record<string, { description: string; replayTo: string }> = {
  events: {
    description: 'run-outcome events the bus could not deliver to the notifier queue',
    replayTo: 'queue:notifier',
  },
  fetcher_schedule: {
    description: 'daily fetcher invocations the scheduler could not deliver',
    replayTo: 'function:fetcher',
  },
  counties_backfill_schedule: {
    description: 'counties backfill invocations of the fetcher the scheduler could not deliver',
    replayTo: 'function:fetcher',
  },
  watchdog_schedule: {
    description: 'watchdog invocations the scheduler could not deliver',
    replayTo: 'function:watchdog',
  },
  async: {
    description: 'asynchronous invocations (fetcher, watchdog, slack-forwarder) that failed after retries',
    replayTo: 'record',
  },
};

/** A dead-letter queue of the environment. */
export interface DeadLetterQueue {
  /** `transformer`, `loader`, `notifier`, or (AWS) a key of `STANDALONE_DLQS` (or any key the Terraform adds). */
  key: string;
  name: string;
  url: string;
  arn: string;
  target?: ReplayTarget;
  /** What lands here, for listings. */
  description: string;
}

export interface DlqDepth {
  /** Messages available (ApproximateNumberOfMessages). */
  visible: number;
  /** Messages received by someone and not yet back (ApproximateNumberOfMessagesNotVisible). */
  inFlight: number;
  /** Age of the oldest message, `null` when none was seen (see `ageBasis`). */
  oldestAgeMs: number | null;
  /** `queue`: every message counted (local); `sample`: from the messages a short receive saw (AWS). */
  ageBasis: 'queue' | 'sample';
}

/** A message as seen in a DLQ. Times are ISO strings. */
export interface DlqMessage {
  messageId: string;
  /** Present for a message received (hidden) by this process; absent for a local peek. */
  receiptHandle?: string;
  body: string;
  messageAttributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string | Uint8Array }>;
  /** Receives before this look (the source queue's deliveries included). */
  receiveCount: number;
  firstReceivedAt: string | null;
  sentAt: string | null;
}

/** A DLQ message received and hidden for a while: it can be delivered, deleted or released. */
export interface ReceivedDlqMessage extends DlqMessage {
  receiptHandle: string;
}

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

/** A message move task (SQS StartMessageMoveTask), or a local move done at once. */
export interface MoveTask {
  taskHandle?: string;
  status: MoveTaskStatus;
  moved: number;
  toMove?: number;
  rate?: number;
  startedAt?: string;
  failureReason?: string;
}

/** `Output.progress`: one line for a person, on stderr. */
export type ProgressLine = (message: string, options?: { transient?: boolean; done?: boolean }) => void;

export const TERMINAL_MOVE_STATUSES: readonly MoveTaskStatus[] = ['COMPLETED', 'CANCELLED', 'FAILED'];

/**
 * What the operator commands need of an environment, with one implementation on the
 * embedded local stack (LocalPipeline) and one on AWS (SDK v3 clients). Every method works
 * on both; `startMove`/`moveTasks`/`cancelMove` only for targets with `redrive`.
 */
export interface OperatorBackend {
  readonly environment: string;
  readonly kind: 'local' | 'aws';
  readonly ledger: LedgerRepository;
  readonly series: SeriesRepository;
  /** Any one geography's series (`pk = <geo id>`): states and counties. */
  readonly geoSeries: GeoSeriesReader;
  /** The stored days of exactly some (geography, date) pairs (a revert's conflict check). */
  readonly geoDays: Pick<GeoSeriesStore, 'getDays'>;
  /** The rows a run's states and counties files rejected (`RUN#<runId>`/`REJECTED#<chunk>`). */
  readonly geoLedger: Pick<GeoLedger, 'listRejections'>;
  /** Every state and county a HELD run tripped (`RUN#<runId>`/`GATES#<page>`), kept after the decision. */
  readonly held: Pick<HeldRunRepository, 'getTrips'>;
  /** Human description of where the environment's resources came from. */
  readonly source: string;

  /** Recent runs, newest first (paginated: up to `limit`). */
  listRuns(limit: number): Promise<RunItem[]>;
  /** Starts a run (the fetcher, as a manual trigger) and answers the fetcher's result. */
  startRun(input: FetcherInput, onProgress?: (progress: DrainProgress) => void): Promise<FetcherResult>;

  /** Sends month chunks and geo parts to the loader queue (a revert's), every one or an error. */
  sendToLoader(messages: Iterable<RevertMessage> | AsyncIterable<RevertMessage>): Promise<void>;

  deadLetterQueues(): DeadLetterQueue[];
  /** Depth and (with `age`, the default) the age of the oldest message. */
  depth(dlq: DeadLetterQueue, options?: { age?: boolean }): Promise<DlqDepth>;
  /** Up to `max` messages, handed back at once (AWS: hidden a few seconds at most). */
  peek(dlq: DeadLetterQueue, max: number): Promise<DlqMessage[]>;

  /** Receives up to 10 messages and hides them for `visibilitySeconds` (real seconds). */
  receive(dlq: DeadLetterQueue, visibilitySeconds: number): Promise<ReceivedDlqMessage[]>;
  /** Delivers a copy of the message to the DLQ's target: same body and message attributes. */
  deliver(dlq: DeadLetterQueue, message: ReceivedDlqMessage): Promise<void>;
  deleteMessage(dlq: DeadLetterQueue, message: ReceivedDlqMessage): Promise<void>;
  /** Makes received messages visible again at once. */
  release(dlq: DeadLetterQueue, messages: readonly ReceivedDlqMessage[]): Promise<void>;

  /** Starts moving every message back to the source queue (StartMessageMoveTask). */
  startMove(dlq: DeadLetterQueue, rate: number | undefined): Promise<MoveTask>;
  /** The most recent move task of the DLQ, if any. */
  latestMoveTask(dlq: DeadLetterQueue): Promise<MoveTask | undefined>;
  cancelMove(dlq: DeadLetterQueue, taskHandle: string): Promise<{ moved: number }>;

  /** Ends runs and announces them on the environment's bus (`etl abandon`). */
  finalizer(): RunFinalizer;

  /** Local: lets the queues drain so the replayed runs finish. AWS: nothing to do. */
  settle(onProgress?: (progress: DrainProgress) => void): Promise<void>;
  /** The progress line that announces a redrive of `dlq` to `destination`. */
  describeMoveStart(dlq: DeadLetterQueue, destination: string, rate: number | undefined): string;
  /**
   * What follows a replay that ended as `task`: locally the queues drain so the replayed runs
   * finish (reported through `progress`); in AWS the pipeline consumes the messages by itself,
   * and the answer is the line that tells the operator how to follow `runIds`.
   */
  afterReplay(task: MoveTask, runIds: readonly string[], progress: ProgressLine): Promise<string | undefined>;
  close(): Promise<void>;
}

/** What a DLQ message is about: a chunk of a run, a run-outcome event, or an invocation. */
export interface MessageSubject {
  kind: 'chunk' | 'event' | 'invocation' | 'unknown';
  runId?: string;
  month?: string;
  detailType?: string;
}

/** Reads the run id and month of a chunk message, or the run of an EventBridge run-outcome event. */
export function describeMessage(body: string): MessageSubject {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unknown' };
  }
  if (typeof json !== 'object' || json === null) return { kind: 'unknown' };
  const value = json as Record<string, unknown>;
  if (typeof value.runId === 'string' && typeof value.month === 'string') {
    return { kind: 'chunk', runId: value.runId, month: value.month };
  }
  if (typeof value['detail-type'] === 'string') {
    const detail = value.detail as { summary?: { runId?: unknown } } | undefined;
    const runId = typeof detail?.summary?.runId === 'string' ? detail.summary.runId : undefined;
    return { kind: 'event', detailType: value['detail-type'], ...(runId ? { runId } : {}) };
  }
  if (typeof value.trigger === 'string' || typeof value.requestContext === 'object') {
    const backfill = value.backfill === 'counties' ? 'counties' : undefined;
    const scheduled =
      typeof value.scheduledTime === 'string' ? runIdOfSchedule(value.scheduledTime, backfill) : undefined;
    return { kind: 'invocation', ...(scheduled ? { runId: scheduled } : {}) };
  }
  return { kind: 'unknown' };
}

/** The run id the fetcher derives from a schedule's time (and backfill), if the time is valid. */
function runIdOfSchedule(time: string, backfill: 'counties' | undefined): string | undefined {
  try {
    return scheduledRunId(time, backfill);
  } catch {
    return undefined;
  }
}

/** What a revert sends the loader: a month of the nation or a part of a states or counties chunk. */
export type RevertMessage = LoadChunkMessage | GeoChunkMessage;

/**
 * The queue messages of month chunks and geo parts (ids unique within a call: one chunk per
 * month, one part per key; SQS batch entry ids take letters, digits, `-` and `_`).
 */
export async function* chunkMessages(
  messages: Iterable<RevertMessage> | AsyncIterable<RevertMessage>,
): AsyncGenerator<{ id: string; body: string }> {
  for await (const message of messages) {
    yield {
      id: ('part' in message ? message.part : message.month).replace(/[^A-Za-z0-9_-]/g, '_').replace('-', '_'),
      body: JSON.stringify(message),
    };
  }
}

/**
 * The run `runId` in `backend`'s ledger, for the commands that act on one run (`approve`,
 * `reject`, `abandon`): a one-line UsageError naming the environment when it is not there.
 */
export async function requireRun(backend: OperatorBackend, runId: string): Promise<RunItem> {
  const run = await backend.ledger.getRun(runId);
  if (run) return run;
  const env = backend.environment === 'local' ? '' : ` --env ${backend.environment}`;
  throw new UsageError(`No run ${runId} in the ledger of ${backend.environment} (see pnpm etl runs${env})`);
}
