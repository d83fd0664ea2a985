import { CostMeter, currentCostMeter, withCostMeter } from './costs.js';

/** One record's place in an `InvocationPool`: it submits one item, or leaves without one. */
export interface PoolMember<T, R> {
  /** Adds the record's item to the pooled work; resolves with its result once the pool has run. */
  submit(item: T): Promise<R>;
  /** The record will submit nothing (done, skipped or failed); no effect after `submit`. */
  leave(): void;
}

/**
 * Pools the work of the records of one invocation: each of the `size` records gets a member
 * and either submits one item or leaves; once every member has, `run` is called once with
 * every submitted item (in submission order) and each submitter gets its own result, or the
 * error when `run` fails. Lets a handler whose records are processed concurrently make one
 * request for many records (one Query, shared BatchWriteItem requests) while keeping its
 * per-record steps and partial batch failures. What the pooled run costs (its requests) is
 * metered apart and charged to the first submitter's cost meter, so it is recorded once, with
 * that record's work (a pool mixing runs charges it to the first record's run).
 */
export class InvocationPool<T, R> {
  private arrived = 0;
  private readonly waiting: {
    item: T;
    meter: CostMeter | undefined;
    resolve: (result: R) => void;
    reject: (error: unknown) => void;
  }[] = [];

  constructor(
    private readonly size: number,
    private readonly run: (items: T[]) => Promise<R[]>,
  ) {}

  member(): PoolMember<T, R> {
    let arrived = false;
    const arrive = () => {
      if (arrived) return false;
      arrived = true;
      this.arrived += 1;
      return true;
    };
    return {
      submit: (item) => {
        if (!arrive()) return Promise.reject(new Error('a pool member submits at most once'));
        const meter = currentCostMeter();
        const result = new Promise<R>((resolve, reject) => this.waiting.push({ item, meter, resolve, reject }));
        this.flushWhenComplete();
        return result;
      },
      leave: () => {
        if (arrive()) this.flushWhenComplete();
      },
    };
  }

  private flushWhenComplete(): void {
    if (this.arrived < this.size || this.waiting.length === 0) return;
    const waiting = this.waiting.splice(0);
    const meter = new CostMeter();
    const charge = () => waiting[0]?.meter?.add(meter.take());
    withCostMeter(() => this.run(waiting.map((entry) => entry.item)), meter).then(
      (results) => {
        charge();
        for (const [index, entry] of waiting.entries()) entry.resolve(results[index] as R);
      },
      (error: unknown) => {
        charge();
        for (const entry of waiting) entry.reject(error);
      },
    );
  }
}
