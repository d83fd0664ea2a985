import { AsyncLocalStorage } from 'node:async_hooks';
import { LambdaCrashError } from '@covid-etl/local-stack';
import type { SQSRecord } from 'aws-lambda';

/** The services whose handlers can be made to fail locally. */
export const FAULT_SERVICES = ['transformer', 'loader', 'notifier'] as const;
export type FaultService = (typeof FAULT_SERVICES)[number];
export const FAULT_MODES = ['fail', 'fail-first', 'crash-mid-batch'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** An injected failure (ETL_FAULTS), recorded like any other error. */
export class InjectedFaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedFaultError';
  }
}

/** A malformed ETL_FAULTS value. */
export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

/**
 * Parses `ETL_FAULTS=<service>=<mode>[,...]`, e.g. `loader=fail,transformer=fail-first`.
 * Throws a FaultSpecError naming the bad part and the allowed values.
 */
export function parseFaults(spec: string | undefined): Partial<Record<FaultService, FaultMode>> {
  const faults: Partial<Record<FaultService, FaultMode>> = {};
  for (const part of (spec ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [service, mode, ...rest] = part.split('=').map((p) => p.trim());
    if (!FAULT_SERVICES.includes(service as FaultService) || rest.length > 0) {
      throw new FaultSpecError(`ETL_FAULTS: "${part}" names no service; expected one of ${FAULT_SERVICES.join(', ')}`);
    }
    if (!FAULT_MODES.includes(mode as FaultMode)) {
      throw new FaultSpecError(
        `ETL_FAULTS: "${part}" has mode "${mode ?? ''}"; expected one of ${FAULT_MODES.join(', ')}`,
      );
    }
    faults[service as FaultService] = mode as FaultMode;
  }
  return faults;
}

interface InvocationState {
  armed: boolean;
  writes: number;
  crashed: boolean;
}

/**
 * Deterministic fault injection for one service's handler:
 * - `fail`: every delivery of every message throws;
 * - `fail-first`: the first delivery of each message throws (later ones succeed);
 * - `crash-mid-batch`: on a batch holding a first delivery, the handler dies after
 *   `writesBeforeCrash` writes (the "write" is the service's output: a table write, a queue
 *   send, a publish), or at the end of the batch when it made fewer (a notifier batch of one
 *   event makes one publish); the whole invocation then fails like a crashed Lambda, so every
 *   message of the batch comes back, including those already processed.
 */
export class FaultInjector {
  private readonly invocation = new AsyncLocalStorage<InvocationState>();

  constructor(
    readonly service: FaultService,
    readonly mode: FaultMode | undefined,
    private readonly writesBeforeCrash = 3,
  ) {}

  /** Runs before each record (the SQS handler's `beforeProcess`). */
  readonly beforeProcess = (_message: unknown, record: SQSRecord): void => {
    const firstDelivery = Number(record.attributes.ApproximateReceiveCount) === 1;
    if (this.mode === 'fail') throw new InjectedFaultError(`${this.service} fault injected (ETL_FAULTS: fail)`);
    if (this.mode === 'fail-first' && firstDelivery) {
      throw new InjectedFaultError(`${this.service} fault injected on the first delivery (ETL_FAULTS: fail-first)`);
    }
    const state = this.invocation.getStore();
    if (this.mode === 'crash-mid-batch' && firstDelivery && state) state.armed = true;
  };

  /** Wraps a write so that an armed invocation dies after a few writes. */
  wrapWrite<A extends unknown[], R>(write: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      const state = this.invocation.getStore();
      if (state?.crashed) throw new LambdaCrashError(`${this.service} already crashed`);
      if (state?.armed) {
        if (state.writes >= this.writesBeforeCrash) {
          state.crashed = true;
          throw new LambdaCrashError(`${this.service} crashed mid-batch (ETL_FAULTS: crash-mid-batch)`);
        }
        state.writes += 1;
      }
      return write(...args);
    };
  }

  /**
   * Wraps a handler so that a crash fails the whole invocation, as a dead Lambda does. With
   * `recordLevel` (a handler without a `beforeProcess` hook), `fail` and `fail-first` are
   * applied to the whole batch here.
   */
  wrapHandler<E extends { Records?: SQSRecord[] }, R>(
    handler: (event: E, context: import('aws-lambda').Context) => Promise<R>,
    { recordLevel = false }: { recordLevel?: boolean } = {},
  ) {
    return async (event: E, context: import('aws-lambda').Context): Promise<R> => {
      const state: InvocationState = { armed: false, writes: 0, crashed: false };
      if (recordLevel) {
        for (const record of event.Records ?? [])
          this.invocation.run(state, () => this.beforeProcess(undefined, record));
      }
      const result = await this.invocation.run(state, () => handler(event, context));
      // Armed but fewer writes than the threshold: die before answering, after the work is done.
      if (state.crashed || state.armed) {
        throw new LambdaCrashError(`${this.service} crashed mid-batch (ETL_FAULTS: crash-mid-batch)`);
      }
      return result;
    };
  }
}
