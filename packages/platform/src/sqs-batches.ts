import { MAX_MESSAGE_BYTES } from '@covid-etl/contracts';

// Kept apart from the SQS sender (no AWS client import), so the local stack can batch the same
// way without loading @aws-sdk/client-sqs (the CLI's start-up test checks what a local command loads).

/** SendMessageBatch takes at most 10 entries. */
export const SQS_MAX_BATCH = 10;

/**
 * Splits messages into SendMessageBatch requests: at most {@link SQS_MAX_BATCH} entries and at
 * most MAX_MESSAGE_BYTES of bodies together (SQS refuses a batch whose payload sum exceeds the
 * 256 KiB a single message may have: ten 130 KB county parts are two requests, not one).
 * Lazy: a batch is yielded as soon as it is full (10 entries, or the next message would not
 * fit), so a generator of messages is built a batch at a time, never all at once. An async
 * iterable (bodies read from a table page by page) gives an async generator of the same batches.
 */
export function sqsBatches<M extends { body: string }>(messages: Iterable<M>): Generator<M[]>;
export function sqsBatches<M extends { body: string }>(messages: AsyncIterable<M>): AsyncGenerator<M[]>;
export function sqsBatches<M extends { body: string }>(
  messages: Iterable<M> | AsyncIterable<M>,
): Generator<M[]> | AsyncGenerator<M[]>;
export function sqsBatches<M extends { body: string }>(
  messages: Iterable<M> | AsyncIterable<M>,
): Generator<M[]> | AsyncGenerator<M[]> {
  return Symbol.asyncIterator in messages ? asyncBatches(messages) : syncBatches(messages);
}

function* syncBatches<M extends { body: string }>(messages: Iterable<M>): Generator<M[]> {
  const batcher = new Batcher<M>();
  for (const message of messages) yield* batcher.add(message);
  yield* batcher.rest();
}

async function* asyncBatches<M extends { body: string }>(messages: AsyncIterable<M>): AsyncGenerator<M[]> {
  const batcher = new Batcher<M>();
  for await (const message of messages) yield* batcher.add(message);
  yield* batcher.rest();
}

/** The batch being filled: `add` returns the batches a message completes, `rest` the last one. */
class Batcher<M extends { body: string }> {
  private current: M[] = [];
  private bytes = 0;

  add(message: M): M[][] {
    const done: M[][] = [];
    const size = Buffer.byteLength(message.body, 'utf8');
    if (this.current.length > 0 && this.bytes + size > MAX_MESSAGE_BYTES) done.push(this.take());
    this.current.push(message);
    this.bytes += size;
    if (this.current.length === SQS_MAX_BATCH) done.push(this.take());
    return done;
  }

  rest(): M[][] {
    return this.current.length > 0 ? [this.take()] : [];
  }

  private take(): M[] {
    const batch = this.current;
    this.current = [];
    this.bytes = 0;
    return batch;
  }
}
