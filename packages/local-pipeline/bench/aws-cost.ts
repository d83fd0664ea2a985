/**
 * The estimated AWS cost of a run at published us-east-1 prices, from the run's metered cost
 * drivers (`costs`: DynamoDB requests and capacity units, SQS requests, events, SNS publishes)
 * and an estimate of its Lambda time. Shared by the benchmarks; prices and what is left out are
 * in docs/performance.md ("Run cost drivers and the estimated AWS cost").
 */
import type { CostCounts } from '@covid-etl/platform';

/**
 * Published us-east-1 list prices, USD (on-demand, x86, no free tier applied), as the AWS
 * pricing pages give them (DynamoDB on-demand since its 2024-11-01 price cut). Written down on
 * 2026-11-30 without a live check of the pages from this machine: re-check them before relying
 * on the estimate (docs/performance.md).
 */
export const PRICES = {
  date: '2026-11-30',
  /** DynamoDB on-demand, per read request unit (4 KB strongly consistent, 2 eventually consistent reads). */
  dynamoReadRequestUnit: 0.125 / 1e6,
  /** DynamoDB on-demand, per write request unit (1 KB). */
  dynamoWriteRequestUnit: 0.625 / 1e6,
  /** SQS standard queue, per request (a batch of up to 10 messages is one request). */
  sqsRequest: 0.4 / 1e6,
  /** EventBridge, per custom event put (64 KB chunk). */
  eventBridgeEvent: 1.0 / 1e6,
  /** SNS, per publish request. */
  snsPublish: 0.5 / 1e6,
  /** SNS email delivery, per notification ($2.00 per 100,000). */
  snsEmail: 2.0 / 1e5,
  /** Lambda (x86), per request. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda (x86), per GB-second. */
  lambdaGbSecond: 0.0000166667,
} as const;

/** Memory of the functions a run goes through (fetcher 512 MB, the others 256 MB: terraform/modules/pipeline). */
export const LAMBDA_GB = { fetcher: 0.5, consumer: 0.25 } as const;

export type Engine = 'pipeline' | 'monolith';

/** What an estimate needs: the cost drivers, and the Lambda invocations and GB-seconds. */
export interface CostInput {
  costs: CostCounts;
  lambda: { invocations: number; gbSeconds: number };
}

/**
 * Lambda GB-seconds of a run that took `ms` locally: at the fetcher's memory for the monolith
 * (one function), between the fetcher's and the consumers' for the pipeline (an estimate: the
 * local wall time on a loaded 2-core machine overstates billed duration).
 */
export function lambdaGbSeconds(ms: number, engine: Engine): number {
  return (ms / 1000) * (engine === 'monolith' ? LAMBDA_GB.fetcher : (LAMBDA_GB.fetcher + LAMBDA_GB.consumer) / 2);
}

/** Estimated AWS cost of one run, USD, at PRICES (see docs/performance.md for what is left out). */
export function estimateCost(m: CostInput, engine: Engine): number {
  const c = m.costs;
  const writeUnits = Math.max(c.dynamoWriteUnits, c.dynamoWriteRequests);
  const readUnits = Math.max(c.dynamoReadUnits, c.dynamoReadRequests * 0.5);
  // SQS: the sends, and per consumer invocation one ReceiveMessage and one DeleteMessageBatch.
  const consumerInvocations = engine === 'pipeline' ? m.lambda.invocations - 1 : 0;
  const sqsRequests = c.sqsSendRequests + 2 * consumerInvocations;
  return (
    readUnits * PRICES.dynamoReadRequestUnit +
    writeUnits * PRICES.dynamoWriteRequestUnit +
    sqsRequests * PRICES.sqsRequest +
    c.eventsPut * PRICES.eventBridgeEvent +
    c.snsPublishes * (PRICES.snsPublish + PRICES.snsEmail) +
    m.lambda.invocations * PRICES.lambdaRequest +
    m.lambda.gbSeconds * PRICES.lambdaGbSecond
  );
}

/** The line that states the prices, for a benchmark's output. */
export const PRICES_LINE =
  `Prices (us-east-1, ${PRICES.date}): DynamoDB $0.125/M read units, $0.625/M write units; SQS $0.40/M requests; ` +
  'EventBridge $1.00/M events; SNS $0.50/M publishes + $2.00/100k emails; Lambda $0.20/M requests + $0.0000166667/GB-s.';
