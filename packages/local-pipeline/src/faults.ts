import { AsyncLocalStorage } from 'node:async_hooks';
import { LambdaCrashError } from '@covid-etl/local-stack';
import type { SQSRecord } from 'aws-lambda';

/** The services whose handlers can be made to fail locally. */
export const FAULT_SERVICES = ['transformer', 'loader', 'notifier'] as const;
export type FaultService = (typeof FAULT_SERVICES)[number];
export const FAULT_MODES = ['fail', 'fail-first', 'crash-mid-batch'] as const;
/**
 * Named places in a service's work where `crash-at-<point>` kills the handler (on a first
 * delivery): the loader's geo part between its days written and the catalogue update
 * (`days-written`), and between the catalogue update and the part marked loaded
 * (`catalogue-updated`).
 */
export const CRASH_POINTS = {
  transformer: [],
  loader: ['days-written', 'catalogue-updated'],
  notifier: [],
} as const satisfies Record<FaultService, readonly string[]>;
export type CrashPoint = (typeof CRASH_POINTS)[FaultService][number];
export type FaultMode = (typeof FAULT_MODES)[number] | `crash-at-${CrashPoint}`;

/** The modes ETL_FAULTS accepts for `service`. */
export function faultModesOf(service: FaultService): FaultMode[] {
  return [...FAULT_MODES, ...CRASH_POINTS[service].map((point): FaultMode => `crash-at-${point}`)];
}

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
 * Parses `ETL_FAULTS=<service>=<mode>[,...]`, e.g. `loader=fail,transformer=fail-first`,
 * `loader=crash-at-days-written`.
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
    const modes = faultModesOf(service as FaultService);
    if (!modes.includes(mode as FaultMode)) {
      throw new FaultSpecError(`ETL_FAULTS: "${part}" has mode "${mode ?? ''}"; expected one of ${modes.join(', ')}`);
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
 *   message of the batch comes back, including those already processed;
 * - `crash-at-<point>`: on a batch holding a first delivery, the handler dies when its work
 *   reaches that point ({@link CRASH_POINTS}, marked with {@link at}); the whole invocation fails
 *   as above. A batch that never reaches the point is not touched.
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
    if (this.mode?.startsWith('crash-') && firstDelivery && state) state.armed = true;
  };

  /**
   * Marks a crash point of the work: an armed invocation of `crash-at-<point>` dies here (and
   * any later write or point of it fails too, as in a dead Lambda).
   */
  at(point: CrashPoint): void {
    const state = this.invocation.getStore();
    if (state?.crashed) throw new LambdaCrashError(`${this.service} already crashed`);
    if (state?.armed && this.mode === `crash-at-${point}`) {
      state.crashed = true;
      throw new LambdaCrashError(`${this.service} crashed at ${point} (ETL_FAULTS: crash-at-${point})`);
    }
  }

  /** Wraps a write so that an armed invocation dies after a few writes. */
  wrapWrite<A extends unknown[], R>(write: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      const state = this.invocation.getStore();
      if (state?.crashed) throw new LambdaCrashError(`${this.service} already crashed`);
      if (state?.armed && this.mode === 'crash-mid-batch') {
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
   * applied to the whole batch here. Only a crash mode needs the invocation's state: without one
   * the handler runs outside the AsyncLocalStorage, which on Node 22 costs a hook on every
   * promise of the process while any of its contexts is in use.
   */
  wrapHandler<E extends { Records?: SQSRecord[] }, R>(
    handler: (event: E, context: import('aws-lambda').Context) => Promise<R>,
    { recordLevel = false }: { recordLevel?: boolean } = {},
  ) {
    if (!this.mode?.startsWith('crash-')) {
      return async (event: E, context: import('aws-lambda').Context): Promise<R> => {
        if (recordLevel) for (const record of event.Records ?? []) this.beforeProcess(undefined, record);
        return handler(event, context);
      };
    }
    return async (event: E, context: import('aws-lambda').Context): Promise<R> => {
      const state: InvocationState = { armed: false, writes: 0, crashed: false };
      if (recordLevel) {
        for (const record of event.Records ?? [])
          this.invocation.run(state, () => this.beforeProcess(undefined, record));
      }
      const result = await this.invocation.run(state, () => handler(event, context));
      // Armed but fewer writes than the threshold: die before answering, after the work is done.
      if (state.crashed || (state.armed && this.mode === 'crash-mid-batch')) {
        throw new LambdaCrashError(`${this.service} crashed (ETL_FAULTS: ${this.mode})`);
      }
      return result;
    };
  }
}
