import type { Context, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { sleep } from './clock.js';
import { lambdaContext } from './lambda-context.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type LocalQueue, MAX_BATCH_ENTRIES, type ReceivedMessage } from './queue.js';

/** A Lambda handler fed by SQS: returns an `SQSBatchResponse`, nothing, or (wrongly) anything else. */
export type SqsLambdaHandler = (event: SQSEvent, context: Context) => unknown;

/** The mapping settings, named as in `QueueSettings` so `QUEUES.<key>` can be passed as is. */
export interface EventSourceMappingSettings {
  /** 1 to 10000 messages per invocation. */
  readonly batchSize: number;
  /** How long to gather a batch, in AWS seconds (scaled with the queue's `timeScale`); default 0. */
  readonly maximumBatchingWindowSeconds?: number;
  /** Batches in flight at once (2 to 1000 in AWS); default 2. */
  readonly maximumConcurrency?: number;
  /** Overrides the queue's visibility timeout for the receives of this mapping (AWS seconds, scaled). */
  readonly visibilityTimeoutSeconds?: number;
  /** The function timeout in real seconds, NOT scaled: what `context.getRemainingTimeInMillis()` counts down. Default 30. */
  readonly functionTimeoutSeconds?: number;
}

export interface EventSourceMappingOptions {
  readonly queue: LocalQueue;
  readonly handler: SqsLambdaHandler;
  readonly settings: EventSourceMappingSettings;
  /** Name of the consuming function, for the Lambda context; default `<queue>-consumer`. */
  readonly functionName?: string;
  /** `function_response_types = ["ReportBatchItemFailures"]`; default true. */
  readonly reportBatchItemFailures?: boolean;
  /**
   * Keep the batch invisible while the handler runs (default true; see `LocalQueue.hold`). In
   * AWS the visibility timeout is at least 6x the function timeout, so a message is never
   * redelivered during its own invocation; scaling the visibility timeout down must not break that.
   */
  readonly holdVisibilityWhileInvoking?: boolean;
  /** Called after every batch, e.g. to log outcomes. */
  readonly onBatch?: (result: PollResult) => void;
}

/**
 * - `empty`: nothing to receive.
 * - `success`: every message deleted (no response, `null`, no or an empty `batchItemFailures`,
 *   or any response when `reportBatchItemFailures` is off).
 * - `partial-failure`: the listed messages kept, the others deleted.
 * - `handler-error`: the handler threw or rejected (a crash): nothing deleted.
 * - `invalid-response`: malformed response or bad `itemIdentifier`: nothing deleted.
 */
export type BatchOutcome = 'empty' | 'success' | 'partial-failure' | 'handler-error' | 'invalid-response';

/** What one receive + invoke round did. Message ids refer to the messages of the batch. */
export interface PollResult {
  readonly outcome: BatchOutcome;
  readonly messageIds: readonly string[];
  readonly deleted: readonly string[];
  /** Messages left in the queue: they become visible again after the visibility timeout. */
  readonly retained: readonly string[];
  /** The handler's error, for `handler-error`. */
  readonly error?: unknown;
  /** Why the response was rejected, for `invalid-response`. */
  readonly reason?: string;
  readonly durationMs: number;
}

export interface EventSourceMappingStats {
  invocations: number;
  succeeded: number;
  partialFailures: number;
  failed: number;
  messagesDeleted: number;
}

/** How a Lambda SQS event source mapping reads a handler's response. */
export type BatchResponseVerdict =
  | { readonly kind: 'success' }
  | { readonly kind: 'partial-failure'; readonly failedIds: ReadonlySet<string> }
  | { readonly kind: 'invalid-response'; readonly reason: string };

/**
 * Interprets a handler response as Lambda does (docs: services-sqs-errorhandling). With
 * `reportBatchItemFailures` off, any response is a success. Otherwise `undefined`/`null`,
 * an object without `batchItemFailures`, a `null` or empty list are successes; a list of
 * valid `itemIdentifier`s is a partial failure; anything else (not an object, a list that is
 * not an array, an entry that is not an object, an empty, null or unknown identifier) fails
 * the whole batch.
 */
export function interpretBatchResponse(
  response: unknown,
  messageIds: readonly string[],
  reportBatchItemFailures: boolean,
): BatchResponseVerdict {
  if (!reportBatchItemFailures) return { kind: 'success' };
  if (response === undefined || response === null) return { kind: 'success' };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return {
      kind: 'invalid-response',
      reason: `the response is a ${Array.isArray(response) ? 'array' : typeof response}, not an object`,
    };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'invalid-response', reason: 'batchItemFailures is not an array' };
  const known = new Set(messageIds);
  const failedIds = new Set<string>();
  for (const [index, entry] of failures.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return { kind: 'invalid-response', reason: `batchItemFailures[${index}] is not an object` };
    }
    const id = (entry as { itemIdentifier?: unknown }).itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return {
        kind: 'invalid-response',
        reason: `batchItemFailures[${index}].itemIdentifier is empty, null or not a string`,
      };
    }
    if (!known.has(id)) {
      return {
        kind: 'invalid-response',
        reason: `batchItemFailures[${index}].itemIdentifier ${id} is not a message of the batch`,
      };
    }
    failedIds.add(id);
  }
  return failedIds.size === 0 ? { kind: 'success' } : { kind: 'partial-failure', failedIds };
}

/** The SQS record Lambda delivers for a received message. */
export function toSqsRecord(queue: LocalQueue, message: ReceivedMessage): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    messageAttributes[name] = {
      dataType: value.DataType,
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
    };
  }
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.approximateReceiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: LOCAL_ACCOUNT_ID,
      ApproximateFirstReceiveTimestamp: String(message.approximateFirstReceiveTimestamp ?? message.sentTimestamp),
      ...(message.deadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn } : {}),
    },
    messageAttributes,
    md5OfBody: message.md5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: LOCAL_REGION,
  };
}

/**
 * The Lambda SQS poller for one queue and one handler, as AWS implements it: receives up to
 * `batchSize` messages, invokes the handler with a real-shaped `SQSEvent`, deletes what the
 * response says succeeded and leaves the rest to reappear after the visibility timeout (and
 * reach the DLQ after `maxReceiveCount` receives). `pollOnce()` runs one round; `start()` /
 * `stop()` run `maximumConcurrency` pollers (normally driven by `drain`).
 */
export class EventSourceMapping {
  readonly queue: LocalQueue;
  readonly functionName: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  readonly stats: EventSourceMappingStats = {
    invocations: 0,
    succeeded: 0,
    partialFailures: 0,
    failed: 0,
    messagesDeleted: 0,
  };

  readonly #handler: SqsLambdaHandler;
  readonly #visibilityTimeoutSeconds: number;
  readonly #functionTimeoutMs: number;
  readonly #holdVisibility: boolean;
  readonly #onBatch: ((result: PollResult) => void) | undefined;
  #running = 0;
  readonly #pollEndListeners = new Set<() => void>();
  #abort: AbortController | undefined;
  #workers: Promise<void>[] = [];
  #failure: unknown;

  constructor(options: EventSourceMappingOptions) {
    const { settings } = options;
    if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1 || settings.batchSize > 10_000) {
      throw new RangeError(`batchSize must be 1 to 10000, got ${settings.batchSize}`);
    }
    const concurrency = settings.maximumConcurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`maximumConcurrency must be a positive integer, got ${concurrency}`);
    }
    this.queue = options.queue;
    this.functionName = options.functionName ?? `${options.queue.name}-consumer`;
    this.batchSize = settings.batchSize;
    this.maximumBatchingWindowSeconds = settings.maximumBatchingWindowSeconds ?? 0;
    this.maximumConcurrency = concurrency;
    this.reportBatchItemFailures = options.reportBatchItemFailures ?? true;
    this.#handler = options.handler;
    this.#visibilityTimeoutSeconds = settings.visibilityTimeoutSeconds ?? options.queue.visibilityTimeoutSeconds;
    this.#functionTimeoutMs = (settings.functionTimeoutSeconds ?? 30) * 1000;
    this.#holdVisibility = options.holdVisibilityWhileInvoking ?? true;
    this.#onBatch = options.onBatch;
  }

  /**
   * Invocations running right now: batches received and not yet answered, deleted and released
   * (a poll still waiting in its batching window for a first message is not one).
   */
  get runningInvocations(): number {
    return this.#running;
  }

  /** Whether the pollers started by `start()` are running. */
  get isRunning(): boolean {
    return this.#abort !== undefined && !this.#abort.signal.aborted;
  }

  /** An infrastructure error (e.g. a queue file that cannot be written) that stopped a poller. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * One receive + invoke round: receives a batch (waiting up to the scaled batching window to
   * fill it), invokes the handler once and applies the AWS rules to its response. Handler
   * errors never escape: they are the `handler-error` outcome.
   */
  async pollOnce(): Promise<PollResult> {
    const started = performance.now();
    try {
      const batch = await this.#receiveBatch();
      if (batch.length === 0) {
        return { outcome: 'empty', messageIds: [], deleted: [], retained: [], durationMs: performance.now() - started };
      }
      // Counted from the batch on: a poll still waiting for messages holds none (what it has
      // received is in flight in its queue until deleted or released).
      this.#running += 1;
      try {
        const result = await this.#invoke(batch, started);
        this.#onBatch?.(result);
        return result;
      } finally {
        this.#running -= 1;
      }
    } finally {
      for (const listener of this.#pollEndListeners) listener();
    }
  }

  /**
   * Calls `listener` each time a poll ends (its invocation, if any, answered and its messages
   * deleted or released), e.g. so that `drain` looks at the queues then. Returns the function
   * that removes the listener.
   */
  onPollEnd(listener: () => void): () => void {
    this.#pollEndListeners.add(listener);
    return () => this.#pollEndListeners.delete(listener);
  }

  /** Starts `maximumConcurrency` pollers that run `pollOnce()` until `stop()`. Idempotent. */
  start(): void {
    if (this.isRunning) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#workers = Array.from({ length: this.maximumConcurrency }, () => this.#work(abort.signal));
  }

  /** Stops the pollers and waits for the batches in flight to finish. */
  async stop(): Promise<void> {
    const abort = this.#abort;
    abort?.abort();
    await Promise.all(this.#workers);
    this.#workers = [];
    // A `pollOnce()` called by hand later waits out its batching window again.
    if (this.#abort === abort) this.#abort = undefined;
  }

  async #work(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let result: PollResult;
      try {
        result = await this.pollOnce();
      } catch (error) {
        this.#failure = error;
        this.#abort?.abort();
        return;
      }
      if (result.outcome === 'empty') await this.#waitForMessages(signal);
    }
  }

  /**
   * Sleeps until a message may be receivable: a send, the next visibility expiry, or 50 ms; not
   * at all once stopped (a `stop()` between a poll's end and this call must not wait 50 ms: an
   * aborted signal fires no more 'abort' events).
   */
  #waitForMessages(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    const nextVisible = this.queue.nextVisibleInMs();
    const wait = Math.min(50, nextVisible === undefined ? 50 : nextVisible + 1);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      const unsubscribe = this.queue.onAvailable(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async #receiveBatch(): Promise<ReceivedMessage[]> {
    const batch: ReceivedMessage[] = [];
    const deadline = performance.now() + this.queue.scaledMs(this.maximumBatchingWindowSeconds);
    while (batch.length < this.batchSize) {
      const asked = Math.min(MAX_BATCH_ENTRIES, this.batchSize - batch.length);
      const received = this.queue.receive({
        maxMessages: asked,
        visibilityTimeoutSeconds: this.#visibilityTimeoutSeconds,
      });
      batch.push(...received);
      if (received.length === asked) continue;
      const remaining = deadline - performance.now();
      // Stopped: what was received is invoked now, as at the window's end (`stop()` waits for it).
      if (remaining <= 0 || this.#abort?.signal.aborted) break;
      await sleep(Math.min(5, remaining));
    }
    return batch;
  }

  async #invoke(batch: readonly ReceivedMessage[], started: number): Promise<PollResult> {
    const messageIds = batch.map((m) => m.messageId);
    const event: SQSEvent = { Records: batch.map((m) => toSqsRecord(this.queue, m)) };
    const context = this.#context();
    if (this.#holdVisibility) for (const message of batch) this.queue.hold(message.receiptHandle);
    this.stats.invocations += 1;
    let response: unknown;
    try {
      response = await this.#handler(event, context);
    } catch (error) {
      this.stats.failed += 1;
      this.#release(batch);
      return {
        outcome: 'handler-error',
        messageIds,
        deleted: [],
        retained: messageIds,
        error,
        durationMs: performance.now() - started,
      };
    }
    const verdict = interpretBatchResponse(response, messageIds, this.reportBatchItemFailures);
    if (verdict.kind === 'invalid-response') {
      this.stats.failed += 1;
      this.#release(batch);
      return {
        outcome: 'invalid-response',
        messageIds,
        deleted: [],
        retained: messageIds,
        reason: verdict.reason,
        durationMs: performance.now() - started,
      };
    }
    const failedIds = verdict.kind === 'partial-failure' ? verdict.failedIds : new Set<string>();
    const deleted: string[] = [];
    const retained: string[] = [];
    for (const message of batch) {
      if (!failedIds.has(message.messageId) && this.queue.deleteMessage(message.receiptHandle)) {
        deleted.push(message.messageId);
      } else {
        retained.push(message.messageId);
      }
    }
    this.#release(batch.filter((m) => retained.includes(m.messageId)));
    this.stats.messagesDeleted += deleted.length;
    if (verdict.kind === 'partial-failure') this.stats.partialFailures += 1;
    else this.stats.succeeded += 1;
    return { outcome: verdict.kind, messageIds, deleted, retained, durationMs: performance.now() - started };
  }

  #release(messages: readonly ReceivedMessage[]): void {
    if (!this.#holdVisibility) return;
    for (const message of messages) this.queue.release(message.receiptHandle, this.#visibilityTimeoutSeconds);
  }

  #context(): Context {
    return lambdaContext({ functionName: this.functionName, timeoutMs: this.#functionTimeoutMs });
  }
}
