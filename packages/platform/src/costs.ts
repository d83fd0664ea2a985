import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunCosts } from '@covid-etl/contracts';

/**
 * A run's cost drivers, counted where the requests are made. An invocation (the fetcher) or a
 * record (each SQS message a handler processes) runs inside its own `CostMeter`
 * (`withCostMeter`, an AsyncLocalStorage context, so the concurrent records of one batch are
 * metered apart); every AWS SDK client a service creates carries `meterAwsClient`'s middleware,
 * the local stack's adapters and the downloader call `recordCosts`. The work persists what its
 * meter holds with the item it writes anyway (`CostMeter.take`, DynamoDB ADD: the fetcher's on
 * the run item, each chunk's on its chunk), so a retry or a redelivery adds what it really cost.
 */

/** The meter's counters: the run summary's `RunCosts`, plus SNS publishes (made after the summary, by the notifier). */
export type CostCounts = RunCosts & { snsPublishes: number };

export const RUN_COST_FIELDS = [
  'dynamoReadRequests',
  'dynamoWriteRequests',
  'dynamoReadUnits',
  'dynamoWriteUnits',
  'sqsMessagesSent',
  'sqsSendRequests',
  'sqsMessagesReceived',
  'eventsPut',
  'bytesDownloaded',
] as const satisfies readonly (keyof RunCosts)[];

export function zeroCosts(): CostCounts {
  return {
    dynamoReadRequests: 0,
    dynamoWriteRequests: 0,
    dynamoReadUnits: 0,
    dynamoWriteUnits: 0,
    sqsMessagesSent: 0,
    sqsSendRequests: 0,
    sqsMessagesReceived: 0,
    eventsPut: 0,
    bytesDownloaded: 0,
    snsPublishes: 0,
  };
}

/** `a + b`, field by field (units rounded to 0.1, as DynamoDB reports halves). */
export function sumCosts<T extends Partial<CostCounts>>(a: T, b: Partial<CostCounts> | undefined): T {
  const out: Record<string, number> = { ...(a as Record<string, number>) };
  for (const [key, value] of Object.entries(b ?? {})) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    out[key] = Math.round(((out[key] ?? 0) + value) * 10) / 10;
  }
  return out as T;
}

/** Only the summary's fields (drops `snsPublishes`), each present. */
export function toRunCosts(counts: Partial<CostCounts> | undefined): RunCosts {
  const zero = zeroCosts();
  return Object.fromEntries(RUN_COST_FIELDS.map((field) => [field, counts?.[field] ?? zero[field]])) as RunCosts;
}

/** The counters of one invocation or record: what it spent and has not yet recorded with its work. */
export class CostMeter {
  private pending: CostCounts = zeroCosts();

  add(costs: Partial<CostCounts>): void {
    this.pending = sumCosts(this.pending, costs);
  }

  /** What was spent since the last `take`, without resetting it. */
  peek(): CostCounts {
    return { ...this.pending };
  }

  /** What was spent since the last `take`, and resets it: call it when writing the costs with the work. */
  take(): CostCounts {
    const taken = this.pending;
    this.pending = zeroCosts();
    return taken;
  }

  /**
   * `take`, plus the one DynamoDB write that will record the result (and `ahead`, requests the
   * caller makes right after it): they are counted now and netted out when the middleware sees
   * them, so the stored costs include the request that stores them.
   */
  takeForWrite(ahead: Partial<CostCounts> = {}): CostCounts {
    const prepaid = sumCosts({ dynamoWriteRequests: 1 } as Partial<CostCounts>, ahead);
    const taken = sumCosts(this.take(), prepaid);
    this.pending = sumCosts(zeroCosts(), negate(prepaid));
    return taken;
  }
}

function negate(costs: Partial<CostCounts>): Partial<CostCounts> {
  return Object.fromEntries(Object.entries(costs).map(([key, value]) => [key, -(value ?? 0)]));
}

const storage = new AsyncLocalStorage<CostMeter>();

/** Runs `fn` with `meter` (default a new one) as the current meter of everything it awaits. */
export function withCostMeter<T>(fn: () => Promise<T>, meter: CostMeter = new CostMeter()): Promise<T> {
  return storage.run(meter, fn);
}

/** The meter of the current invocation or record, if any. */
export function currentCostMeter(): CostMeter | undefined {
  return storage.getStore();
}

let processTotals: CostCounts = zeroCosts();

/** Adds to the current meter (nothing outside one) and to the process's totals. */
export function recordCosts(costs: Partial<CostCounts>): void {
  storage.getStore()?.add(costs);
  processTotals = sumCosts(processTotals, costs);
}

/**
 * Everything metered in this process, inside a meter or not (the local stack runs every
 * service in one process: the benchmark reads a run's whole cost here).
 */
export function processCosts(): CostCounts {
  return { ...processTotals };
}

/**
 * The current meter's unrecorded costs, including the write that records them and `ahead`
 * (see `CostMeter.takeForWrite`); undefined outside a meter, so nothing is written then.
 */
export function takeCostsForWrite(ahead?: Partial<CostCounts>): CostCounts | undefined {
  return storage.getStore()?.takeForWrite(ahead);
}

const DYNAMO_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'Get', 'BatchGet', 'TransactGetItems']);
const DYNAMO_WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'Put',
  'Update',
  'Delete',
  'BatchWrite',
  'TransactWriteItems',
]);

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/** The cost of one SDK command, from its name, input and output (`attempts`: HTTP attempts made). */
export function costOfCommand(
  commandName: string,
  input: Record<string, unknown>,
  output: Record<string, unknown> | undefined,
  attempts: number,
): Partial<CostCounts> {
  const name = commandName.replace(/Command$/, '');
  const entries = Array.isArray(input.Entries) ? input.Entries.length : 1;
  if (DYNAMO_READS.has(name) || DYNAMO_WRITES.has(name)) {
    const consumed = output?.ConsumedCapacity as Capacity | Capacity[] | undefined;
    const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
      (sum, c) => sum + (c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0)),
      0,
    );
    return DYNAMO_READS.has(name)
      ? { dynamoReadRequests: attempts, dynamoReadUnits: units }
      : { dynamoWriteRequests: attempts, dynamoWriteUnits: units };
  }
  switch (name) {
    case 'SendMessage':
    case 'SendMessageBatch':
      // Entries SQS refused (`Failed`) were not sent.
      return {
        sqsSendRequests: attempts,
        sqsMessagesSent: output ? entries - (Array.isArray(output.Failed) ? output.Failed.length : 0) : 0,
      };
    case 'PutEvents':
      return { eventsPut: output ? entries - Number(output.FailedEntryCount ?? 0) : 0 };
    case 'Publish':
    case 'PublishBatch':
      return { snsPublishes: output ? entries : 0 };
    default:
      return {};
  }
}

type Next = (args: { input: unknown }) => Promise<{ output: unknown }>;

/** Any AWS SDK v3 client (method syntax: the SDK's typed `add` is accepted). */
interface MeteredClient {
  middlewareStack: { add(middleware: unknown, options: unknown): void };
}

/**
 * Meters every command `client` sends into the current `CostMeter` (see `costOfCommand`);
 * DynamoDB commands ask for `ReturnConsumedCapacity: TOTAL` so capacity units are counted too.
 * Attach it to every client a service creates; a DocumentClient shares its client's stack.
 * Failed requests count (a failed condition still costs a write); attempts are the SDK's own.
 */
export function meterAwsClient<C extends MeteredClient>(client: C): C {
  const middleware =
    (next: Next, context: { commandName?: string }): Next =>
    async (args) => {
      const commandName = String(context.commandName ?? '');
      const input = (args.input ?? {}) as Record<string, unknown>;
      const name = commandName.replace(/Command$/, '');
      if ((DYNAMO_READS.has(name) || DYNAMO_WRITES.has(name)) && input.ReturnConsumedCapacity === undefined) {
        // In place: a DocumentClient command marshals its own input object later in the stack.
        input.ReturnConsumedCapacity = 'TOTAL';
      }
      try {
        const result = await next(args);
        const output = result.output as Record<string, unknown> & { $metadata?: { attempts?: number } };
        recordCosts(costOfCommand(commandName, input, output, output?.$metadata?.attempts ?? 1));
        return result;
      } catch (error) {
        const attempts = (error as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1;
        recordCosts(costOfCommand(commandName, input, undefined, attempts));
        throw error;
      }
    };
  client.middlewareStack.add(middleware, { step: 'initialize', name: 'meterCosts', override: true });
  return client;
}
