/**
 * Errors of the local stack. Request errors carry the AWS error `code` the real service
 * would answer with, so an adapter can map them onto the SDK's exceptions.
 */

/** A request a real SQS queue would refuse (bad batch, message too long, out-of-range value). */
export class QueueRequestError extends Error {
  /** The SQS error code, e.g. `AWS.SimpleQueueService.TooManyEntriesInBatchRequest`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueueRequestError';
    this.code = code;
  }
}

/** A queue's state file exists but cannot be read: fix or delete the file named in the message. */
export class QueueStateError extends Error {
  readonly path: string;

  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueueStateError';
    this.path = path;
  }
}

/** What was left when `drain` gave up. */
export interface DrainLeftover {
  readonly queue: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly runningInvocations: number;
}

/** `drain` timed out: the listed queues still held messages or invocations were still running. */
export class DrainTimeoutError extends Error {
  readonly timeoutMs: number;
  readonly leftovers: readonly DrainLeftover[];

  /** `stalled`: nothing moved for `timeoutMs` (`DrainOptions.stallTimeoutMs`), rather than the total time running out. */
  constructor(timeoutMs: number, leftovers: readonly DrainLeftover[], options?: ErrorOptions & { stalled?: boolean }) {
    const detail = leftovers
      .map((l) => `${l.queue}: ${l.visible} visible, ${l.inFlight} in flight, ${l.runningInvocations} running`)
      .join('; ');
    const what = options?.stalled ? `made no progress for ${timeoutMs} ms` : `did not drain within ${timeoutMs} ms`;
    super(
      `The local queues ${what} (${detail || 'nothing left, but the drain did not settle'}). ` +
        'A handler may be hanging, or failing messages may need more time to reach their DLQ: raise the timeout or check the handler logs.',
      options,
    );
    this.name = 'DrainTimeoutError';
    this.timeoutMs = timeoutMs;
    this.leftovers = leftovers;
  }
}

/** A PutEvents request EventBridge would refuse as a whole (no entries, more than 10). */
export class EventBusRequestError extends Error {
  /** The EventBridge error code, e.g. `ValidationException`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventBusRequestError';
    this.code = code;
  }
}

/** An event pattern EventBridge would refuse when the rule is created. */
export class InvalidEventPatternError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`Event pattern is not valid. Reason: ${message}`, options);
    this.name = 'InvalidEventPatternError';
  }
}

/** A Publish request SNS would refuse (`InvalidParameter`): bad subject, empty or oversized message, bad JSON structure. */
export class TopicRequestError extends Error {
  /** The SNS error code, e.g. `InvalidParameter`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TopicRequestError';
    this.code = code;
  }
}

/** The embedded DynamoDB (dynalite) could not start or a table did not become ACTIVE. */
export class LocalDynamoError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalDynamoError';
  }
}

/**
 * Throw this from a handler (fault injection) to simulate a Lambda crash: the invocation
 * ends with no response, so, as with any thrown error, nothing of the batch is deleted.
 */
export class LambdaCrashError extends Error {
  constructor(message = 'Simulated Lambda crash', options?: ErrorOptions) {
    super(message, options);
    this.name = 'LambdaCrashError';
  }
}
