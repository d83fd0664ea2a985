import { redactUrlsIn } from '@covid-etl/contracts';
import type { RunItem } from '@covid-etl/platform';
import type { RunView, StatusResponse } from '../api-types.js';
import type { RunReader, SeriesReader } from '../ports.js';

/** How many of the latest runs are read to find the last successful one. */
export const RUNS_READ = 50;

/**
 * The latest run (status, time, counts) and how fresh the data is: the first and last date in
 * the data table, when a run last changed it, and the last SUCCEEDED run among the latest 50.
 */
export async function getStatus(deps: {
  series: SeriesReader;
  ledger: RunReader;
  environment: string;
  now: Date;
}): Promise<StatusResponse> {
  const [runs, records] = await Promise.all([deps.ledger.listRuns(RUNS_READ), deps.series.query({})]);
  const latest = runs[0];
  const succeeded = runs.find((run) => run.status === 'SUCCEEDED');
  const first = records[0];
  const last = records.at(-1);
  let lastChangedAt: string | null = null;
  for (const record of records) {
    if (record.updatedAt && (lastChangedAt === null || record.updatedAt > lastChangedAt))
      lastChangedAt = record.updatedAt;
  }
  return {
    environment: deps.environment,
    now: deps.now.toISOString(),
    latestRun: latest ? toRunView(latest) : null,
    lastSuccessfulRun: succeeded ? { runId: succeeded.runId, finishedAt: succeeded.finishedAt ?? null } : null,
    data: first && last ? { firstDate: first.date, lastDate: last.date, days: records.length, lastChangedAt } : null,
  };
}

function toRunView(run: RunItem): RunView {
  const counts = run.summary?.counts;
  return {
    runId: run.runId,
    status: run.status,
    trigger: run.trigger,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    counts: counts
      ? { inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged, rejected: counts.rejected }
      : null,
    failure: redactOrNull(run.failure?.reason ?? run.summary?.failure?.reason),
    note: run.summary?.note ?? run.note ?? null,
  };
}

/** A reason as the public API may show it: any URL in it redacted (no userinfo, no query). */
function redactOrNull(reason: string | undefined): string | null {
  return reason ? redactUrlsIn(reason) : null;
}
