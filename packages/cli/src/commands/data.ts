import type { RunItem } from '@covid-etl/platform';
import { formatDuration, formatRunSummary, runStatus } from '../format.js';
import { LocalPipeline } from '../local/pipeline.js';
import { localStateDir } from '../paths.js';
import { type Output, UsageError } from './output.js';

/** Opens the local stack's tables for a read-only command. */
async function withLocal<T>(fn: (pipeline: LocalPipeline) => Promise<T>): Promise<T> {
  const pipeline = await LocalPipeline.open({
    dir: localStateDir(),
    dynamoEndpoint: process.env.ETL_DYNAMODB_ENDPOINT?.trim() || undefined,
  });
  try {
    return await fn(pipeline);
  } finally {
    await pipeline.close();
  }
}

function requireLocal(env: string): void {
  if (env !== 'local')
    throw new UsageError(`--env ${env}: only the local environment is available in this command so far`);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `etl export`: the loaded series in date order, as CSV (`date,cases,deaths,recovered`) or JSON. */
export async function exportCommand(
  options: { env: string; format: string; from?: string; to?: string },
  out: Output,
): Promise<number> {
  requireLocal(options.env);
  if (options.format !== 'csv' && options.format !== 'json') {
    throw new UsageError(`--format ${options.format}: expected csv or json`);
  }
  for (const [flag, value] of [
    ['--from', options.from],
    ['--to', options.to],
  ] as const) {
    if (value !== undefined && !ISO_DATE.test(value))
      throw new UsageError(`${flag} ${value}: expected a date as YYYY-MM-DD`);
  }
  const records = await withLocal((pipeline) => pipeline.series.query({ from: options.from, to: options.to }));
  if (options.format === 'json') {
    out.result(records.map(({ date, cases, deaths, recovered }) => ({ date, cases, deaths, recovered })));
  } else {
    const lines = [
      'date,cases,deaths,recovered',
      ...records.map((r) => `${r.date},${r.cases},${r.deaths},${r.recovered}`),
    ];
    out.result(lines.join('\n'));
  }
  return 0;
}

/** `etl runs`: recent runs, newest first. */
export async function runsCommand(
  options: { env: string; json?: boolean; limit: string },
  out: Output,
): Promise<number> {
  requireLocal(options.env);
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`--limit ${options.limit}: expected 1 to 1000`);
  const runs = await withLocal((pipeline) => pipeline.ledger.listRuns(limit));
  if (options.json) {
    out.result(runs.map(runRow));
    return 0;
  }
  if (runs.length === 0) {
    out.result('No runs yet. Start one with: pnpm etl run');
    return 0;
  }
  out.result(
    [
      'RUN ID                        STATUS      STARTED                   INSERTED  UPDATED  UNCHANGED  REJECTED  DURATION',
      ...runs.map((run) => {
        const c = run.summary?.counts;
        return [
          run.runId.padEnd(29),
          runStatus(run).padEnd(11),
          run.startedAt.padEnd(25),
          String(c?.inserted ?? '-').padStart(8),
          String(c?.updated ?? '-').padStart(8),
          String(c?.unchanged ?? '-').padStart(10),
          String(c?.rejected ?? '-').padStart(9),
          ` ${formatDuration(run.summary?.durationMs)}`,
        ].join(' ');
      }),
    ].join('\n'),
  );
  return 0;
}

/** `etl status <runId>`: one run in detail. */
export async function statusCommand(
  runId: string,
  options: { env: string; json?: boolean },
  out: Output,
): Promise<number> {
  requireLocal(options.env);
  const run = await withLocal((pipeline) => pipeline.ledger.getRun(runId));
  if (!run) throw new UsageError(`No run ${runId} in the local ledger (see pnpm etl runs)`);
  out.result(options.json ? run : formatRunSummary(run));
  return 0;
}

function runRow(run: RunItem) {
  return {
    runId: run.runId,
    status: runStatus(run),
    trigger: run.trigger,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    counts: run.summary?.counts,
    dateRange: run.summary?.dateRange ?? null,
    failure: run.summary?.failure,
  };
}
