import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FetcherInput, type GeoLevel, type PendingChunk, parseGeoLevels } from '@covid-etl/contracts';
import { LocalPipeline, localDbMaxOpenFiles, parseFaults, prepareLocalStateDir } from '@covid-etl/local-pipeline';
import { buildRunSummary, type RunItem } from '@covid-etl/platform';
import { describeDrain, formatRunSummary, runStatus } from '../format.js';
import { describeMessage } from '../ops/backend.js';
import { runDeployedCommand } from '../ops/run-deployed.js';
import { type Output, UsageError } from './output.js';

export interface RunOptions {
  env: string;
  nytUrl?: string;
  jhuUrl?: string;
  statesUrl?: string;
  countiesUrl?: string;
  countiesRecentUrl?: string;
  /** Comma-joined geography levels (`nation,state,county`); default: the environment's. */
  levels?: string;
  /** `counties`: read the full counties file (needs `county` in the levels). */
  backfill?: string;
  json?: boolean;
  /** Deployed environments only: follow the run to its end (a local run always waits). */
  wait?: boolean;
  /** Minutes `--wait` follows a deployed run. */
  timeout?: string;
}

/** Exit codes of `etl run`: 0 only for SUCCEEDED (and its notification delivered). */
export const RUN_EXIT_CODES: Record<string, number> = {
  SUCCEEDED: 0,
  FAILED: 2,
  PARTIAL: 3,
  INCOMPLETE: 4,
  RUNNING: 5,
  ABANDONED: 2,
  HELD: 6,
  REJECTED: 7,
};

/** Exit code of a local run whose outcome notification is parked in the notifier DLQ. */
export const NOTIFICATION_PARKED_EXIT_CODE = 8;

/** Accepts a URL, or a path to a local file (turned into a file:// URL). */
export function toSourceUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  const file = path.resolve(value);
  if (!existsSync(file)) throw new UsageError(`No such file: ${file} (give a URL, or the path of a local CSV file)`);
  return pathToFileURL(file).href;
}

/**
 * The `--levels` and `--backfill` of `etl run` as fetcher input fields (absent when not given).
 * One-line usage error for an unknown level, an unknown backfill, or a counties backfill
 * without the county level.
 */
export function geoRunInput(
  options: Pick<RunOptions, 'levels' | 'backfill'>,
): Pick<FetcherInput, 'levels' | 'backfill'> {
  let levels: GeoLevel[] | undefined;
  if (options.levels !== undefined) {
    try {
      levels = parseGeoLevels(options.levels);
    } catch {
      throw new UsageError(`--levels ${options.levels}: expected a comma-joined subset of nation,state,county`);
    }
  }
  if (options.backfill === undefined) return levels ? { levels } : {};
  if (options.backfill !== 'counties') {
    throw new UsageError(`--backfill ${options.backfill}: the only backfill is counties`);
  }
  if (!levels?.includes('county')) {
    throw new UsageError('--backfill counties needs the county level: add --levels county (or nation,state,county)');
  }
  return { levels, backfill: 'counties' };
}

/** `etl run`: one pipeline run on the local stack, waited for to its end. Returns the exit code. */
export async function runCommand(options: RunOptions, out: Output): Promise<number> {
  if (options.env !== 'local') return runDeployedCommand({ ...options, geo: geoRunInput(options) }, { out });
  const env = process.env;
  const faults = parseFaults(env.ETL_FAULTS);
  const input: FetcherInput = {
    trigger: 'manual',
    sources: {
      nyt: toSourceUrl(options.nytUrl ?? env.ETL_NYT_URL),
      jhu: toSourceUrl(options.jhuUrl ?? env.ETL_JHU_URL),
      states: toSourceUrl(options.statesUrl ?? env.ETL_STATES_URL),
      counties: toSourceUrl(options.countiesUrl ?? env.ETL_COUNTIES_URL),
      'counties-recent': toSourceUrl(options.countiesRecentUrl ?? env.ETL_COUNTIES_RECENT_URL),
    },
    ...geoRunInput(options),
  };
  const dir = prepareLocalStateDir(env);
  const pipeline = await LocalPipeline.open({
    dir,
    dynamoEndpoint: env.ETL_DYNAMODB_ENDPOINT?.trim() || undefined,
    dbMaxOpenFiles: localDbMaxOpenFiles(env),
    faults,
    slackWebhookUrl: env.SLACK_WEBHOOK_URL?.trim() || undefined,
    timeScale: env.ETL_LOCAL_TIME_SCALE ? Number(env.ETL_LOCAL_TIME_SCALE) : undefined,
  });
  let run: RunItem;
  let pendingChunks: PendingChunk[] | undefined;
  const before = new Set(listOutbox(pipeline.outboxDir));
  const onInterrupt = interruptHandler(pipeline, new Date().toISOString());
  process.once('SIGINT', onInterrupt);
  try {
    out.progress(`Running the pipeline locally (state in ${dir})`);
    run = await pipeline.run(input, (progress) => out.progress(describeDrain(progress), { transient: true }));
    // The summary carries the first pending chunks only (events are bounded); --json lists them all.
    pendingChunks = buildRunSummary(run, await pipeline.ledger.listChunks(run.runId), {
      status: run.status,
      now: new Date(),
      maxPending: Number.POSITIVE_INFINITY,
    }).pendingChunks;
  } finally {
    process.off('SIGINT', onInterrupt);
    out.progress('', { transient: true, done: true });
    await pipeline.close();
  }
  const emails = listOutbox(pipeline.outboxDir).filter((file) => !before.has(file));
  const parked = pipeline.queues.notifier.deadLetterQueue
    .peek()
    .filter((message) => describeMessage(message.body).runId === run.runId).length;
  const status = runStatus(run);
  const summary = run.summary;
  if (options.json) {
    out.result({
      runId: run.runId,
      status,
      inserted: summary?.counts.inserted ?? 0,
      updated: summary?.counts.updated ?? 0,
      unchanged: summary?.counts.unchanged ?? 0,
      rejected: summary?.counts.rejected ?? 0,
      /** The counts by level (nation, state, county); absent for a run of the nation alone. */
      levels: summary?.levels,
      dateRange: summary?.dateRange ?? null,
      durationMs: summary?.durationMs,
      failure: summary?.failure,
      rejectedRows: summary?.rejectedRows ?? [],
      pendingChunks: pendingChunks ?? [],
      emails: emails.map((file) => path.join(pipeline.outboxDir, file)),
      notificationsParked: parked,
      logFile: pipeline.logFile,
    });
  } else {
    out.result(formatRunSummary(run));
    for (const file of emails) out.result(`  email      ${path.join(pipeline.outboxDir, file)}`);
    out.result(`  logs       ${pipeline.logFile}`);
    if (status === 'FAILED' && /could not download/.test(summary?.failure?.reason ?? '')) {
      out.result(
        '\nNo network? Point the run at local copies of the two files:\n' +
          '  pnpm etl run --nyt-url path/to/us.csv --jhu-url path/to/time-series-19-covid-combined.csv\n' +
          '(paths, file:// or http://127.0.0.1 URLs are accepted locally; ETL_NYT_URL / ETL_JHU_URL work too)',
      );
    }
    if (status === 'INCOMPLETE') out.result('\nSee the parked chunks with: pnpm etl dlq list');
  }
  if (parked > 0) {
    out.progress(
      `The notification of run ${run.runId} was not delivered: it is parked in ${pipeline.queues.notifier.deadLetterQueue.name} ` +
        `(see pnpm etl dlq peek notifier; the error is in ${pipeline.logFile}). Once the cause is fixed, send it with: pnpm etl dlq replay notifier`,
    );
    return NOTIFICATION_PARKED_EXIT_CODE;
  }
  return RUN_EXIT_CODES[status] ?? 1;
}

/**
 * Ctrl-C during a local run: says which run was left unfinished and that the next `etl run`
 * finishes it (its queued chunks are drained, or it is reported as stopped), then exits 130.
 */
function interruptHandler(pipeline: LocalPipeline, since: string): () => void {
  return () => {
    const say = (text: string) => process.stderr.write(`\r\x1b[2K\n${text}\n`);
    const lookup = pipeline.ledger
      .listRuns(5)
      .then((runs) => runs.find((run) => run.startedAt >= since && run.status === 'RUNNING'));
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2000).unref());
    void Promise.race([lookup, timeout])
      .catch(() => undefined)
      .then((run) => {
        say(
          run
            ? `Interrupted: run ${run.runId} was left unfinished. The next \`pnpm etl run\` will finish it (or abandon it: \`pnpm etl abandon ${run.runId}\`).`
            : 'Interrupted before a run was recorded: nothing was left unfinished.',
        );
        process.exit(130);
      });
  };
}

function listOutbox(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((file) => file.endsWith('.eml'))
        .sort()
    : [];
}
