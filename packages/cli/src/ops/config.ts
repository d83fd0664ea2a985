import { QUEUES, type QueueKey } from '@covid-etl/contracts';
import { OperatorConfigError } from './errors.js';

/** A work queue and its dead-letter queue, as the Terraform outputs them. */
export interface QueueResources {
  url: string;
  arn: string;
  dlq_url: string;
  dlq_arn: string;
}

/** A dead-letter queue that has no work queue (rule target, schedules, async invocations). */
export interface StandaloneQueue {
  url: string;
  arn: string;
  /**
   * Where `etl dlq replay` sends its messages back, as the Terraform writes it:
   * `queue:<key of queues>`, `function:<key of functions>` or `record` (the function named in
   * each Lambda failure record). Absent in deployments older than it.
   */
  replay_to?: string;
}

/** A `replay_to` value: `queue:<key>`, `function:<key>` or `record`. */
export const REPLAY_TO = /^(queue|function):([a-z0-9_]+)$|^record$/;

/**
 * What the operator commands need of a deployed environment: the Terraform output
 * `operator_config` of `terraform/environments/<env>`, also stored as JSON in the SSM String
 * parameter `/covid-etl/<env>/operator-config`.
 */
export interface OperatorConfig {
  environment: string;
  region: string;
  tables: { data: string; ledger: string };
  queues: Record<QueueKey, QueueResources>;
  /** `events`, `fetcher_schedule`, `watchdog_schedule`, `async` (optional: older deployments lack it). */
  dead_letter_queues?: Record<string, StandaloneQueue>;
  event_bus_name?: string;
  topic_arns?: { notifications?: string; alerts?: string };
  functions: { fetcher: string } & Record<string, string>;
}

/** The SSM parameter holding an environment's operator configuration. */
export function operatorConfigParameterName(environment: string): string {
  return `/covid-etl/${environment}/operator-config`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks the shape of an operator configuration (from Terraform or SSM) and returns it typed.
 * Extra keys are allowed; a missing required one throws an OperatorConfigError naming it.
 */
export function parseOperatorConfig(value: unknown, where: string): OperatorConfig {
  const missing: string[] = [];
  const str = (obj: unknown, key: string, path: string) => {
    const v = isObject(obj) ? obj[key] : undefined;
    if (typeof v !== 'string' || v.length === 0) missing.push(path);
  };
  if (!isObject(value)) throw new OperatorConfigError(`${where} is not a JSON object`);
  str(value, 'environment', 'environment');
  str(value, 'region', 'region');
  str(value.tables, 'data', 'tables.data');
  str(value.tables, 'ledger', 'tables.ledger');
  for (const key of Object.keys(QUEUES)) {
    const queue = isObject(value.queues) ? value.queues[key] : undefined;
    for (const field of ['url', 'arn', 'dlq_url', 'dlq_arn']) str(queue, field, `queues.${key}.${field}`);
  }
  str(value.functions, 'fetcher', 'functions.fetcher');
  if (isObject(value.dead_letter_queues)) {
    for (const [key, queue] of Object.entries(value.dead_letter_queues)) {
      str(queue, 'url', `dead_letter_queues.${key}.url`);
      str(queue, 'arn', `dead_letter_queues.${key}.arn`);
    }
  }
  if (missing.length > 0) throw new OperatorConfigError(`${where} lacks ${missing.join(', ')}`);
  for (const [key, queue] of Object.entries(isObject(value.dead_letter_queues) ? value.dead_letter_queues : {})) {
    const replayTo = isObject(queue) ? queue.replay_to : undefined;
    if (replayTo === undefined) continue;
    const match = typeof replayTo === 'string' ? REPLAY_TO.exec(replayTo) : null;
    const [, kind, name] = match ?? [];
    const known =
      match &&
      (kind === undefined ||
        (kind === 'queue' && isObject(value.queues) && name !== undefined && name in value.queues) ||
        (kind === 'function' && isObject(value.functions) && name !== undefined && name in value.functions));
    if (!known) {
      throw new OperatorConfigError(
        `${where}: dead_letter_queues.${key}.replay_to ${JSON.stringify(replayTo)} names no queue or function of the configuration (expected queue:<key>, function:<key> or record)`,
      );
    }
  }
  return value as unknown as OperatorConfig;
}
