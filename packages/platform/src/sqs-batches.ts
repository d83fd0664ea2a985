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
 * fit), so a generator of messages is built a batch at a time, never all at once.
 */
export function* sqsBatches<M extends { body: string }>(messages: Iterable<M>): Generator<M[]> {
  let current: M[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body, 'utf8');
    if (current.length > 0 && bytes + size > MAX_MESSAGE_BYTES) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
    if (current.length === SQS_MAX_BATCH) {
      yield current;
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0) yield current;
}
