/**
 * Errors of the operator commands. Each one says what a person can do about it; `main` prints
 * them as one line (no stack) with exit code 1.
 */
export class OperatorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OperatorError';
  }
}

/** `--env` names no environment: neither `local` nor a folder under terraform/environments. */
export class UnknownEnvironmentError extends OperatorError {
  constructor(
    readonly environment: string,
    readonly known: readonly string[],
  ) {
    super(
      `Unknown environment "${environment}": known environments are ${known.join(', ')} ` +
        '(local, and the folders under terraform/environments)',
    );
    this.name = 'UnknownEnvironmentError';
  }
}

/** The environment's resources could not be found (no Terraform output, no SSM parameter). */
export class OperatorConfigError extends OperatorError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OperatorConfigError';
  }
}

/** The AWS SDK found no credentials in its chain. */
export class MissingCredentialsError extends OperatorError {
  constructor(options?: ErrorOptions) {
    super(
      'No AWS credentials found: set AWS_PROFILE (after `aws sso login --profile <name>` or with keys in ~/.aws/credentials) ' +
        'or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)',
      options,
    );
    this.name = 'MissingCredentialsError';
  }
}

/** The credentials were refused, expired or are not allowed to do `action` on `resource`. */
export class AccessDeniedError extends OperatorError {
  constructor(
    readonly action: string,
    readonly resource: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `Access denied: ${action} on ${resource} (${detail}). Use a role allowed to do it, or refresh expired credentials.`,
      options,
    );
    this.name = 'AccessDeniedError';
  }
}

/** AWS kept throttling a call after retries. */
export class AwsThrottledError extends OperatorError {
  constructor(action: string, resource: string, attempts: number, options?: ErrorOptions) {
    super(
      `AWS throttled ${action} on ${resource} ${attempts} times in a row: wait a minute and run the command again` +
        ' (for a replay, a lower --rate helps)',
      options,
    );
    this.name = 'AwsThrottledError';
  }
}

/** Any other AWS failure, named with the call and the resource. */
export class AwsCallError extends OperatorError {
  constructor(action: string, resource: string, detail: string, options?: ErrorOptions) {
    super(`${action} on ${resource} failed: ${detail}`, options);
    this.name = 'AwsCallError';
  }
}

/** A deployed function answered with an error (Lambda `FunctionError`). */
export class FunctionInvocationError extends OperatorError {
  constructor(functionName: string, detail: string) {
    super(`${functionName} failed: ${detail}`);
    this.name = 'FunctionInvocationError';
  }
}

/** A mutating command in a protected environment was not confirmed. */
export class NotConfirmedError extends OperatorError {
  constructor(message: string) {
    super(message);
    this.name = 'NotConfirmedError';
  }
}
