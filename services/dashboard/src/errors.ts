/**
 * The tables cannot be read right now for a reason a person can wait out (the local stack's
 * database is held by a running `etl run`, say). Answered with 503 and this message.
 */
export class DataUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DataUnavailableError';
  }
}
