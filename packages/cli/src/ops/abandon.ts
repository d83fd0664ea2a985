import { ABANDONABLE_STATUSES } from '@covid-etl/contracts';
import { runStatus } from '../format.js';
import { requireRun } from './backend.js';
import { confirmChange } from './confirm.js';
import type { CommandDeps } from './dlq.js';
import { withBackend } from './open.js';

export interface AbandonOptions {
  env: string;
  reason?: string;
  yes?: boolean;
  json?: boolean;
}

/**
 * `etl abandon <runId>`: closes a run that will not finish by itself (RUNNING, INCOMPLETE,
 * HELD) as ABANDONED, with one `EtlRunFailed` (and so one email); chunks of it still in a queue
 * or a DLQ are dropped when they arrive. Idempotent: abandoning it again changes nothing.
 * Asks for confirmation in prod unless `--yes`. Exit 0 when the run is (now or already)
 * ABANDONED, 1 when it ended otherwise or is unknown.
 */
export async function abandonCommand(runId: string, options: AbandonOptions, deps: CommandDeps): Promise<number> {
  const reason = (options.reason ?? 'no reason given').replace(/\s+/g, ' ').trim() || 'no reason given';
  return withBackend(
    options.env,
    async (backend) => {
      const run = await requireRun(backend, runId);
      if (ABANDONABLE_STATUSES.includes(run.status)) {
        await confirmChange(
          backend.environment,
          {
            yes: options.yes,
            what: `abandon run ${runId}`,
            question: `Abandon run ${runId} (${run.status}) in ${backend.environment}? Its chunks still in flight will be dropped.`,
          },
          deps.prompt,
        );
      }
      const result = await backend.finalizer().abandon(runId, reason);
      // Locally, deliver the EtlRunFailed to the outbox now.
      if (result.outcome === 'abandoned') await backend.settle();
      const status = result.run ? runStatus(result.run) : run.status;
      const report = { runId, outcome: result.outcome, status, reason: result.run?.failure?.reason ?? null };
      const text: Record<typeof result.outcome, string> = {
        abandoned: `Run ${runId} abandoned (was ${run.status}): one EtlRunFailed sent; chunks still in flight will be dropped.`,
        already: `Run ${runId} was already abandoned: nothing to do.`,
        finished: `Run ${runId} is ${status}: only a RUNNING, INCOMPLETE or HELD run can be abandoned; nothing changed.`,
        unknown: `No run ${runId} in the ledger of ${backend.environment}.`,
      };
      deps.out.result(options.json ? report : text[result.outcome]);
      return result.outcome === 'abandoned' || result.outcome === 'already' ? 0 : 1;
    },
    deps.open,
  );
}
