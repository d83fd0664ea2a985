import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { recordCosts, takeCostsForWrite, withCostMeter } from './costs.js';
import type { ChunkLedger } from './dynamo/ledger-repository.js';
import { describeError, MalformedMessageError, PermanentError } from './errors.js';
import type { Logger } from './logger.js';
import { createBatchHandler } from './sqs-batch.js';

/** The second argument of every service's `createHandler(deps, options)`. */
export interface HandlerOptions {
  /** middy's early timeout; 0 in tests. Default 5 ms. */
  timeoutEarlyInMillis?: number;
}

/** The options of an SQS-triggered handler. */
export interface SqsHandlerOptions extends HandlerOptions {
  /**
   * Runs before each record is processed, inside its error handling. The local stack's fault
   * injection (`ETL_FAULTS`) uses it; deployed handlers have none.
   */
  beforeProcess?: (message: { runId: string; month: string }, record: SQSRecord) => Promise<void> | void;
}

interface ChunkMessage {
  runId: string;
  month: string;
}

/**
 * The one shape of every chunk-processing SQS handler: `createBatchHandler`, each record
 * parsed against its contract `schema` and processed on its own; failed records are reported in
 * `batchItemFailures` so only they are retried. A `PermanentError` thrown while processing is
 * not retried: its reason is recorded on the chunk and the record acknowledged (a malformed
 * message, whose chunk cannot be known, still goes to the DLQ after its receives). A failure is logged with the run id and remembered on the chunk's
 * ledger item (the last error, for `etl dlq peek` and stalled-run reports), with what the
 * failed attempt cost. Each record runs in its own `CostMeter` and counts as one message received.
 */
export function createSqsHandler<
  M extends ChunkMessage,
  P extends { leave(): void } = { leave(): void },
  S = undefined,
>({
  schema,
  stage,
  ledger,
  logger,
  process,
  pool,
  shared,
  timeoutEarlyInMillis = 5,
  beforeProcess,
}: {
  schema: z.ZodMiniType<M>;
  stage: 'transform' | 'load';
  ledger: ChunkLedger;
  logger: Logger;
  /**
   * Processes one record; `member` is its place in the invocation's pool, when `pool` is given;
   * `invocation` is what `shared` created for the invocation (undefined without `shared`).
   */
  process: (message: M, record: SQSRecord, member: P | undefined, invocation: S) => Promise<void>;
  /**
   * Creates one pool per invocation (`InvocationPool`) for its `size` records: each record's
   * `process` gets a member, which leaves the pool when the record ends without submitting.
   */
  pool?: (size: number) => { member(): P };
  /**
   * Creates what the records of one invocation share (e.g. `sharedRunReads`), once per
   * invocation, for `process`.
   */
  shared?: () => S;
} & SqsHandlerOptions) {
  const invocations = new WeakMap<SQSEvent, { pool: { member(): P } | undefined; shared: S }>();
  const invocationOf = (event: SQSEvent) => {
    let invocation = invocations.get(event);
    if (!invocation) {
      invocation = { pool: pool?.(event.Records.length), shared: shared?.() as S };
      invocations.set(event, invocation);
    }
    return invocation;
  };
  // Each record has its own cost meter (records of a batch run concurrently).
  const handleRecord = (record: SQSRecord, event: SQSEvent): Promise<void> => {
    const invocation = invocationOf(event);
    const member = invocation.pool?.member();
    return withCostMeter(() => handleMetered(record, member, invocation.shared)).finally(() => member?.leave());
  };
  const handleMetered = async (record: SQSRecord, member: P | undefined, invocation: S): Promise<void> => {
    recordCosts({ sqsMessagesReceived: 1 });
    const message = parseRecord(record, schema);
    try {
      await beforeProcess?.(message, record);
      await process(message, record, member, invocation);
    } catch (error) {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      const permanent = error instanceof PermanentError;
      const log = logger.child({ runId: message.runId, month: message.month });
      log.error(
        { err: error, receiveCount, messageId: record.messageId },
        permanent
          ? `${stage} failed permanently: recorded on its chunk and acknowledged, not retried`
          : `${stage} failed; the message will be retried`,
      );
      const recorded = await ledger
        .recordChunkError(
          message.runId,
          message.month,
          {
            stage,
            message: describeError(error),
            at: new Date().toISOString(),
            receiveCount,
          },
          takeCostsForWrite(),
        )
        .then(
          () => true,
          (recordError: unknown) => {
            log.error({ err: recordError }, 'could not record the chunk error');
            return false;
          },
        );
      // A permanent failure is acknowledged once its reason is on its chunk (the watchdog then
      // reports the run with it). Without a chunk to hold it (an unknown run) or if the write
      // failed, the message is retried and reaches the DLQ, where it can be inspected.
      if (permanent && recorded && (await ledger.getChunk(message.runId, message.month).catch(() => undefined))) return;
      throw error;
    }
  };

  return createBatchHandler(handleRecord, { timeoutEarlyInMillis });

  function parseRecord(record: SQSRecord, contract: z.ZodMiniType<M>): M {
    let json: unknown;
    try {
      json = JSON.parse(record.body);
    } catch (error) {
      logger.error(
        { messageId: record.messageId },
        'message body is not JSON; it will reach the DLQ after its retries',
      );
      throw new MalformedMessageError(`Message ${record.messageId} is not JSON`, { cause: error });
    }
    const parsed = contract.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      logger.error(
        { messageId: record.messageId, problems },
        'message does not match its contract; it will reach the DLQ after its retries',
      );
      throw new MalformedMessageError(
        `Message ${record.messageId} does not match the contract: ${problems.join('; ')}`,
      );
    }
    return parsed.data;
  }
}
