/** A required setting is missing or malformed: fix the configuration, retrying will not help. */
export class ConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/**
 * Bad data or a broken contract: retrying the same input gives the same failure, so the
 * message must not be retried. A chunk handler (`createSqsHandler`) records it on the chunk in
 * the ledger and acknowledges the message; the watchdog then reports the run with that reason.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** A passing failure (throttling, a timeout, a 5xx): retrying later should succeed. */
export class TransientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** A message the pipeline cannot read (not JSON, or not the contract's shape). */
export class MalformedMessageError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedMessageError';
  }
}

/** Short, single-line description of any thrown value, safe for logs, ledgers and notifications. */
export function describeError(error: unknown): string {
  // Duck-typed: errors from another realm (e.g. fetch's under a VM) fail `instanceof Error`.
  if (
    error instanceof Error ||
    (typeof error === 'object' && error !== null && 'message' in error && 'name' in error)
  ) {
    const { name, message } = error as { name: unknown; message: unknown };
    return `${String(name)}: ${String(message)}`.replace(/\s+/g, ' ').slice(0, 500);
  }
  return String(error).slice(0, 500);
}
