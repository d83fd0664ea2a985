import type { RunItem } from './dynamo/ledger-items.js';
import type { RunLedger } from './dynamo/ledger-repository.js';

/**
 * `ledger` with its `getRun` shared by the records of one invocation: each run is read once,
 * when the first record asks, and every record of the invocation gets that read (a failed read
 * fails each record that asked, which is then retried). Its records are processed together, so
 * they see the run as it was a few milliseconds apart either way; a run an operator abandons
 * during the invocation is seen by the next one. Every other method is the ledger's own.
 */
export function sharedRunReads<L extends Pick<RunLedger, 'getRun'>>(ledger: L): L {
  const runs = new Map<string, Promise<RunItem | undefined>>();
  const getRun = (runId: string): Promise<RunItem | undefined> => {
    let run = runs.get(runId);
    if (!run) {
      run = ledger.getRun(runId);
      runs.set(runId, run);
    }
    return run;
  };
  return new Proxy(ledger, {
    get(target, property) {
      if (property === 'getRun') return getRun;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
