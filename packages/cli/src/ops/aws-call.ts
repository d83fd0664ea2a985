import {
  AccessDeniedError,
  AwsCallError,
  AwsThrottledError,
  MissingCredentialsError,
  OperatorError,
} from './errors.js';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CallPolicy {
  /** Attempts for a throttled call, this wrapper's own (the SDK client retries too). Default 4. */
  attempts?: number;
  /** First backoff delay; doubled each time. Default 500 ms. */
  baseDelayMs?: number;
  sleep?: Sleep;
}

interface AwsLikeError {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const THROTTLING =
  /Throttl|TooManyRequests|RequestLimitExceeded|ProvisionedThroughputExceeded|SlowDown|RequestThrottled/i;
const ACCESS_DENIED =
  /AccessDenied|NotAuthorized|AuthorizationError|Forbidden|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|InvalidSignature|SignatureDoesNotMatch|AuthFailure|InvalidSecurity/i;

/** True for the errors AWS returns when a caller sends too many requests. */
export function isThrottling(error: unknown): boolean {
  const e = error as AwsLikeError;
  return Boolean(e?.$retryable?.throttling) || THROTTLING.test(`${e?.name ?? ''} ${e?.Code ?? ''}`);
}

/** True when the SDK's credential chain found nothing. */
export function isMissingCredentials(error: unknown): boolean {
  const e = error as AwsLikeError;
  return (
    e?.name === 'CredentialsProviderError' || /Could not load credentials from any providers/i.test(e?.message ?? '')
  );
}

/** True for an authorisation failure (denied by a policy, unknown or expired credentials). */
export function isAccessDenied(error: unknown): boolean {
  const e = error as AwsLikeError;
  return ACCESS_DENIED.test(`${e?.name ?? ''} ${e?.Code ?? ''}`) || e?.$metadata?.httpStatusCode === 403;
}

/** Turns an SDK error into one of the operator errors, naming the call and the resource. */
export function translateAwsError(error: unknown, action: string, resource: string): Error {
  if (error instanceof OperatorError) return error;
  if (isMissingCredentials(error)) return new MissingCredentialsError({ cause: error });
  const e = error as AwsLikeError;
  const detail = `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`.replace(/\s+/g, ' ').slice(0, 300);
  if (isAccessDenied(error)) return new AccessDeniedError(action, resource, detail, { cause: error });
  return new AwsCallError(action, resource, detail, { cause: error });
}

/**
 * Calls AWS once, retrying throttling with exponential backoff (`attempts` in all), and
 * translates failures: missing credentials, access denied (naming `action` and `resource`),
 * throttling that outlasted the retries, anything else with the call named.
 */
export async function callAws<T>(
  action: string,
  resource: string,
  fn: () => Promise<T>,
  policy: CallPolicy = {},
): Promise<T> {
  const attempts = policy.attempts ?? 4;
  const sleep = policy.sleep ?? realSleep;
  let delay = policy.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (isThrottling(error) && !isAccessDenied(error)) {
        if (attempt >= attempts) throw new AwsThrottledError(action, resource, attempt, { cause: error });
        await sleep(delay);
        delay *= 2;
        continue;
      }
      throw translateAwsError(error, action, resource);
    }
  }
}
