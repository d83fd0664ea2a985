import { userInfo } from 'node:os';
import { type FetcherInput, RunId, type RunStatus } from '@covid-etl/contracts';
import { formatRunSummary, runStatus } from '../format.js';
import { requireRun } from '../ops/backend.js';
import { confirmChange } from '../ops/confirm.js';
import type { CommandDeps } from '../ops/dlq.js';
import { OperatorError } from '../ops/errors.js';
import { withBackend } from '../ops/open.js';
import { buildRunReport, formatGateLines, formatRunReport, locateParkedMessages } from '../ops/report.js';
import { formatTrips } from '../trips.js';
import { UsageError } from './output.js';
import { RUN_EXIT_CODES } from './run.js';

export interface DecideOptions {
  env: string;
  yes?: boolean;
  json?: boolean;
}

/** Who decided, for the ledger: `ETL_OPERATOR`, else the login name. */
function operatorName(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.ETL_OPERATOR?.trim()) return env.ETL_OPERATOR.trim().slice(0, 200);
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `etl approve <runId>` / `etl reject <runId>`: an operator's decision on a HELD run, carried
 * out by the fetcher (locally: invoked on the local stack and waited for, so an approved
 * snapshot is loaded when the command returns; deployed: Lambda Invoke, then `etl status` follows).
 * Of a HELD run it first shows (stderr, not with `--json`) its gates and the states and counties
 * that tripped them, 20 per gate and level, as `etl status` does. Asks for confirmation in prod unless `--yes`. Idempotent: deciding the same way again only
 * shows the run. Exit code: approve as `etl run` (0 SUCCEEDED, 3 PARTIAL, …, 5 still loading
 * in a deployed environment); reject 0.
 */
export async function decideCommand(
  action: 'approve' | 'reject',
  runId: string,
  options: DecideOptions,
  deps: CommandDeps,
): Promise<number> {
  if (!RunId.safeParse(runId).success) {
    throw new UsageError(`${runId}: not a run id (expected s-YYYYMMDDTHHMMSSZ or m-…; see etl runs)`);
  }
  const { out } = deps;
  return withBackend(
    options.env,
    async (backend) => {
      const env = backend.environment === 'local' ? '' : ` --env ${backend.environment}`;
      const run = await requireRun(backend, runId);
      if (run.status === 'HELD') {
        const tripped = run.gates ?? run.summary?.gates ?? [];
        // What the operator decides on: every gate, and the states and counties that tripped (bounded).
        const trips = tripped.length ? await backend.held.getTrips(runId) : [];
        const brief = [...formatGateLines(tripped), ...formatTrips(trips, { runId, environment: backend.environment })];
        if (brief.length) out.progress([`Run ${runId} is HELD:`, ...brief].join('\n'));
        const gates = tripped.map((gate) => gate.gate).join(', ');
        await confirmChange(
          backend.environment,
          {
            yes: options.yes,
            question:
              action === 'approve'
                ? `Load the snapshot held by ${runId} into ${backend.environment} despite its gates (${gates})?`
                : `Reject the snapshot held by ${runId} in ${backend.environment}?`,
            what: `${action} a held run`,
          },
          deps.prompt,
        );
      }
      const by = operatorName();
      const input: FetcherInput = { trigger: 'manual', decision: { runId, action, ...(by ? { by } : {}) } };
      out.progress(`${action === 'approve' ? 'Approving' : 'Rejecting'} ${runId} in ${backend.environment}`);
      try {
        await backend.startRun(input, () => undefined);
      } catch (error) {
        if (error instanceof Error && error.name === 'RunDecisionError') throw new OperatorError(error.message);
        throw error;
      }
      const after = (await backend.ledger.getRun(runId)) ?? run;
      const status = runStatus(after) as RunStatus;
      if (options.json) {
        out.result(await buildRunReport(backend, after, await locateParkedMessages(backend)));
      } else {
        out.result(
          after.summary && status !== 'RUNNING'
            ? formatRunSummary(after)
            : formatRunReport(await buildRunReport(backend, after, new Map()), backend.environment),
        );
        if (status === 'RUNNING')
          out.result(`\nThe snapshot is loading; follow it with: pnpm etl status ${runId}${env}`);
      }
      if (action === 'reject') return status === 'REJECTED' ? 0 : 1;
      return RUN_EXIT_CODES[status] ?? 1;
    },
    deps.open,
  );
}
