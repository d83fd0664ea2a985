import type { FetcherInput, FetcherResult, QueueKey } from '@covid-etl/contracts';
import {
  LOCAL_ENVIRONMENT,
  LocalPipeline,
  LocalQueueSender,
  localDbMaxOpenFiles,
  parseFaults,
  prepareLocalStateDir,
} from '@covid-etl/local-pipeline';
import type { DrainProgress, LocalQueue, QueueMessage } from '@covid-etl/local-stack';
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
import { describeDrain } from '../format.js';
import {
  chunkMessages,
  type DeadLetterQueue,
  type DlqDepth,
  type DlqMessage,
  type MoveTask,
  type OperatorBackend,
  type ProgressLine,
  type ReceivedDlqMessage,
  type RevertMessage,
} from './backend.js';
import { OperatorError } from './errors.js';

const QUEUE_KEYS: readonly QueueKey[] = ['transformer', 'loader', 'notifier'];
const MAX_VISIBILITY_SECONDS = 43_200;

const DESCRIPTIONS: Record<QueueKey, string> = {
  transformer: 'month chunks the transformer failed 5 times',
  loader: 'month chunks the loader failed 5 times',
  notifier: 'run-outcome events the notifier failed 5 times',
};

/** Opens the local stack the way `etl run` does (ETL_LOCAL_DIR, ETL_FAULTS, SLACK_WEBHOOK_URL, …). */
export async function openLocalPipeline(env: Record<string, string | undefined> = process.env): Promise<LocalPipeline> {
  return LocalPipeline.open({
    dir: prepareLocalStateDir(env),
    dynamoEndpoint: env.ETL_DYNAMODB_ENDPOINT?.trim() || undefined,
    dbMaxOpenFiles: localDbMaxOpenFiles(env),
    faults: parseFaults(env.ETL_FAULTS),
    slackWebhookUrl: env.SLACK_WEBHOOK_URL?.trim() || undefined,
    timeScale: env.ETL_LOCAL_TIME_SCALE ? Number(env.ETL_LOCAL_TIME_SCALE) : undefined,
  });
}

/**
 * The operator backend on the embedded local stack: the DLQs are the LocalPipeline's
 * persisted queues, a replay is `moveMessagesTo` (run to completion at once), and `settle`
 * drains the queues so that replayed runs finish and are announced.
 */
export class LocalOperatorBackend implements OperatorBackend {
  readonly environment = LOCAL_ENVIRONMENT;
  readonly kind = 'local' as const;
  readonly ledger: LedgerRepository;
  readonly series: SeriesRepository;
  readonly geoSeries: GeoSeriesReader;
  readonly geoDays: Pick<GeoSeriesStore, 'getDays'>;
  readonly geoLedger: Pick<GeoLedger, 'listRejections'>;
  readonly held: Pick<HeldRunRepository, 'getTrips'>;
  readonly source: string;
  private lastTask: MoveTask | undefined;

  constructor(readonly pipeline: LocalPipeline) {
    this.ledger = pipeline.ledger;
    this.series = pipeline.series;
    this.geoSeries = pipeline.geoSeries;
    this.geoDays = pipeline.geoStore;
    this.geoLedger = pipeline.geoLedger;
    this.held = pipeline.held;
    this.source = `the local stack in ${pipeline.options.dir}`;
  }

  static async open(env: Record<string, string | undefined> = process.env): Promise<LocalOperatorBackend> {
    return new LocalOperatorBackend(await openLocalPipeline(env));
  }

  listRuns(limit: number): Promise<RunItem[]> {
    return this.ledger.listRuns(limit);
  }

  async startRun(input: FetcherInput, onProgress?: (progress: DrainProgress) => void): Promise<FetcherResult> {
    const run = await this.pipeline.run(input, onProgress);
    return { runId: run.runId, joined: false, status: run.summary?.status ?? run.status, chunks: run.months.length };
  }

  async sendToLoader(messages: Iterable<RevertMessage> | AsyncIterable<RevertMessage>): Promise<void> {
    await new LocalQueueSender(this.pipeline.queues.loader.queue).sendAll(chunkMessages(messages));
  }

  deadLetterQueues(): DeadLetterQueue[] {
    return QUEUE_KEYS.map((key) => {
      const { queue, deadLetterQueue } = this.pipeline.queues[key];
      return {
        key,
        name: deadLetterQueue.name,
        url: deadLetterQueue.url,
        arn: deadLetterQueue.arn,
        description: DESCRIPTIONS[key],
        target: { kind: 'queue', key, name: queue.name, url: queue.url, arn: queue.arn, redrive: true },
      };
    });
  }

  async depth(dlq: DeadLetterQueue): Promise<DlqDepth> {
    const queue = this.dlq(dlq);
    const { visible, notVisible } = queue.counts();
    return {
      visible,
      inFlight: notVisible,
      oldestAgeMs: queue.size > 0 ? queue.ageOfOldestMessageMs : null,
      ageBasis: 'queue',
    };
  }

  async peek(dlq: DeadLetterQueue, max: number): Promise<DlqMessage[]> {
    return this.dlq(dlq)
      .peek(max)
      .map((message) => toDlqMessage(message));
  }

  async receive(dlq: DeadLetterQueue, visibilitySeconds: number): Promise<ReceivedDlqMessage[]> {
    const queue = this.dlq(dlq);
    // Local visibility timeouts are scaled: ask for the AWS seconds that last `visibilitySeconds` here.
    const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(visibilitySeconds / queue.timeScale));
    return queue.receive({ maxMessages: 10, visibilityTimeoutSeconds: seconds }).map((message) => ({
      ...toDlqMessage(message, -1),
      receiptHandle: message.receiptHandle,
    }));
  }

  async deliver(dlq: DeadLetterQueue, message: ReceivedDlqMessage): Promise<void> {
    if (dlq.target?.kind !== 'queue') throw new OperatorError(`${dlq.name} has no source queue to replay to`);
    this.pipeline.queues[dlq.target.key].queue.send(
      message.body,
      message.messageAttributes as Parameters<LocalQueue['send']>[1],
    );
  }

  async deleteMessage(dlq: DeadLetterQueue, message: ReceivedDlqMessage): Promise<void> {
    if (!this.dlq(dlq).deleteMessage(message.receiptHandle)) {
      throw new OperatorError(
        `Could not delete message ${message.messageId} from ${dlq.name}: its receipt handle expired (it stays in the DLQ)`,
      );
    }
  }

  async release(dlq: DeadLetterQueue, messages: readonly ReceivedDlqMessage[]): Promise<void> {
    const queue = this.dlq(dlq);
    for (const message of messages) queue.changeVisibility(message.receiptHandle, 0);
  }

  async startMove(dlq: DeadLetterQueue, rate: number | undefined): Promise<MoveTask> {
    if (dlq.target?.kind !== 'queue') throw new OperatorError(`${dlq.name} has no source queue to replay to`);
    const { moved } = this.dlq(dlq).moveMessagesTo(this.pipeline.queues[dlq.target.key].queue);
    this.lastTask = {
      status: 'COMPLETED',
      moved,
      toMove: moved,
      startedAt: new Date().toISOString(),
      ...(rate ? { rate } : {}),
    };
    return this.lastTask;
  }

  async latestMoveTask(): Promise<MoveTask | undefined> {
    return this.lastTask;
  }

  async cancelMove(): Promise<{ moved: number }> {
    throw new OperatorError('Local replays finish at once: there is no move task to cancel');
  }

  finalizer(): RunFinalizer {
    return this.pipeline.finalizer;
  }

  settle(onProgress?: (progress: DrainProgress) => void): Promise<void> {
    return this.pipeline.settle(onProgress);
  }

  describeMoveStart(dlq: DeadLetterQueue, destination: string): string {
    return `Moving the messages of ${dlq.name} to ${destination}`;
  }

  async afterReplay(task: MoveTask, _runIds: readonly string[], progress: ProgressLine): Promise<undefined> {
    if (task.moved === 0) return undefined;
    progress('Letting the local stack process the replayed messages');
    await this.settle((drain) => progress(describeDrain(drain), { transient: true }));
    progress('', { transient: true, done: true });
    return undefined;
  }

  close(): Promise<void> {
    return this.pipeline.close();
  }

  private dlq(dlq: DeadLetterQueue): LocalQueue {
    const key = QUEUE_KEYS.find((k) => this.pipeline.queues[k].deadLetterQueue.name === dlq.name);
    if (!key) throw new OperatorError(`${dlq.name} is not a dead-letter queue of the local stack`);
    return this.pipeline.queues[key].deadLetterQueue;
  }
}

/** `receiveOffset`: -1 for a message just received (its count includes this receive). */
function toDlqMessage(message: QueueMessage, receiveOffset = 0): DlqMessage {
  return {
    messageId: message.messageId,
    body: message.body,
    messageAttributes: { ...message.messageAttributes },
    receiveCount: Math.max(0, message.approximateReceiveCount + receiveOffset),
    firstReceivedAt:
      message.approximateFirstReceiveTimestamp === null
        ? null
        : new Date(message.approximateFirstReceiveTimestamp).toISOString(),
    sentAt: new Date(message.sentTimestamp).toISOString(),
  };
}
