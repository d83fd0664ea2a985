import type { HistoryResponse, RevisedDays } from '../api-types.js';
import type { RunReader, VersionReader } from '../ports.js';

/** How many recent runs are looked through for the latest completed one. */
const RUNS_READ = 10;

/**
 * The days the latest completed run (SUCCEEDED or PARTIAL) revised, with what they held before
 * it: one Query on the runs index and one on the versions index. Null when that run revised
 * nothing (the normal case once the publishers stopped) or when versions are not available.
 */
export async function latestRevisions(deps: {
  ledger: RunReader;
  versions?: VersionReader;
}): Promise<RevisedDays | null> {
  if (!deps.versions) return null;
  const runs = await deps.ledger.listRuns(RUNS_READ);
  const latest = runs.find((run) => run.status === 'SUCCEEDED' || run.status === 'PARTIAL');
  if (!latest) return null;
  const days: RevisedDays['days'] = {};
  for (const version of await deps.versions.changesOf(latest.runId)) {
    if (version.change !== 'updated' || !version.before) continue;
    const { cases, deaths, recovered } = version.before;
    days[version.date] = { cases, deaths, recovered };
  }
  if (Object.keys(days).length === 0) return null;
  return { runId: latest.runId, on: (latest.finishedAt ?? latest.startedAt).slice(0, 10), days };
}

/** Every version of one day, oldest first (one Query). */
export async function getHistory(versions: VersionReader, date: string): Promise<HistoryResponse> {
  const found = await versions.history(date);
  return {
    date,
    versions: found.map(({ runId, at, change, before, after }) => ({
      runId,
      at,
      change,
      before: before ? { cases: before.cases, deaths: before.deaths, recovered: before.recovered } : null,
      after,
    })),
  };
}
