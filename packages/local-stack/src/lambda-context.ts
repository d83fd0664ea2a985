import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './queue.js';

export interface LambdaContextOptions {
  functionName: string;
  /** The function timeout in real milliseconds: what `getRemainingTimeInMillis()` counts down. Default 30 s. */
  timeoutMs?: number;
  /** Default a fresh UUID, as Lambda gives each invocation. */
  awsRequestId?: string;
  memoryLimitInMB?: string;
}

/**
 * The one Lambda `Context` factory of the local stack (and of the test fixtures): what Lambda
 * hands an invocation, with a deadline `timeoutMs` from now.
 */
export function lambdaContext({
  functionName,
  timeoutMs = 30_000,
  awsRequestId = randomUUID(),
  memoryLimitInMB = '256',
}: LambdaContextOptions): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB,
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
