import { type FetcherInput, TERMINAL_STATUSES, WAITING_STATUSES } from '@covid-etl/contracts';
import type { RunItem } from '@covid-etl/platform';
import { type Output, UsageError } from '../commands/output.js';
import { runStatus } from '../format.js';
import { realSleep } from './aws-call.js';
import type { OperatorBackend } from './backend.js';
import type { CommandDeps } from './dlq.js';
import { OperatorError } from './errors.js';
import { withBackend } from './open.js';
import { buildRunReport, formatRunReport, locateParkedMessages, type RunReport } from './report.js';

export interface DeployedRunOptions {
  env: string;
  nytUrl?: string;
  jhuUrl?: string;
  statesUrl?: string;
  countiesUrl?: string;
  countiesRecentUrl?: string;
  /** The run's levels and backfill, already validated (`geoRunInput`). */
  geo?: Pick<FetcherInput, 'levels' | 'backfill'>;
  json?: boolean;
  wait?: boolean;
  /** Minutes `--wait` follows the run at most (default 45: the watchdog reports stalls after 30). */
  timeout?: string;
}

/** A run that moves no further on its own: finished, or waiting for a person (HELD). */
const settled = (status: RunItem['status']) => TERMINAL_STATUSES.includes(status) || WAITING_STATUSES.includes(status);

/** Exit codes of `etl run` (the same as the local run). */
const EXIT: Record<string, number> = { SUCCEEDED: 0, FAILED: 2, PARTIAL: 3, INCOMPLETE: 4, RUNNING: 5, HELD: 6 };

/**
 * `etl run --env <deployed>`: invokes the fetcher (Lambda Invoke, RequestResponse, payload
 * `{"trigger":"manual"}`), which answers once the run is recorded and its chunks are queued;
 * with `--wait` follows the run in the ledger (chunks loaded / expected) until it ends or the
 * timeout passes.
 */
export async function runDeployedCommand(options: DeployedRunOptions, deps: CommandDeps): Promise<number> {
  const timeoutMinutes = options.timeout === undefined ? 45 : Number(options.timeout);
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0 || timeoutMinutes > 24 * 60) {
    throw new UsageError(`--timeout ${options.timeout}: expected minutes, more than 0 and at most 1440`);
  }
  const urls = {
    nyt: options.nytUrl,
    jhu: options.jhuUrl,
    states: options.statesUrl,
    counties: options.countiesUrl,
    'counties-recent': options.countiesRecentUrl,
  };
  const sources = Object.fromEntries(Object.entries(urls).filter(([, url]) => url !== undefined));
  for (const url of Object.values(sources)) {
    if (url !== undefined && !/^https:\/\//.test(url)) {
      throw new UsageError(`${url}: a deployed environment downloads from https URLs only`);
    }
  }
  const { out } = deps;
  return withBackend(
    options.env,
    async (backend) => {
      const input: FetcherInput = {
        trigger: 'manual',
        ...(Object.keys(sources).length > 0 ? { sources } : {}),
        ...options.geo,
      };
      out.progress(`Starting a run in ${backend.environment} (resources from ${backend.source})`);
      const started = await backend.startRun(input);
      out.progress(`Run ${started.runId}: ${started.status}, ${started.chunks} chunk(s) queued`);
      let run = await backend.ledger.getRun(started.runId);
      if (options.wait && run && !settled(run.status)) {
        run = await followRun(backend, run, out, { ...deps, timeoutMs: timeoutMinutes * 60_000 });
      }
      if (!run) throw new OperatorError(`Run ${started.runId} is not in the ledger ${backend.environment}`);
      const chunks = await backend.ledger.listChunks(run.runId);
      const report = await buildRunReport(
        backend,
        run,
        runStatus(run) === 'RUNNING' && !options.wait ? new Map() : await locateParkedMessages(backend),
        chunks,
      );
      if (options.json) {
        // The `etl run --json` contract (the same keys as a local run): the counts at the top too.
        out.result({ ...report, ...report.counts });
      } else {
        out.result(formatRunReport(report, backend.environment));
        const env = ` --env ${backend.environment}`;
        if (report.status === 'RUNNING') {
          out.result(
            options.wait
              ? `\nStill running after ${timeoutMinutes} min. Follow it with: pnpm etl status ${report.runId}${env}`
              : `\nFollow it with: pnpm etl status ${report.runId}${env} (or start runs with --wait)`,
          );
        }
        if (report.status === 'INCOMPLETE') out.result(`\nSee the parked chunks with: pnpm etl dlq list${env}`);
      }
      // Without --wait a started run is a success.
      if (!options.wait && report.status === 'RUNNING') return 0;
      return EXIT[report.status] ?? 1;
    },
    deps.open,
  );
}

/** Polls the run in the ledger until it is terminal or `timeoutMs` passed; progress on stderr. */
export async function followRun(
  backend: OperatorBackend,
  run: RunItem,
  out: Output,
  { pollMs = 5000, sleep = realSleep, now = Date.now, timeoutMs }: CommandDeps & { timeoutMs: number },
): Promise<RunItem> {
  const started = now();
  let current = run;
  for (;;) {
    const chunks = await backend.ledger.listChunks(current.runId);
    const loaded = chunks.filter((c) => c.stage === 'LOADED').length;
    const transformed = chunks.filter((c) => c.stage === 'TRANSFORMED').length;
    const failing = chunks.filter((c) => c.stage !== 'LOADED' && c.lastError).length;
    out.progress(
      `  ${current.runId}: ${runStatus(current)} · ${loaded}/${current.months.length} chunks loaded · ${transformed} transformed${failing ? ` · ${failing} failing` : ''} · ${Math.round((now() - started) / 1000)} s`,
      { transient: true },
    );
    if (settled(current.status) || now() - started >= timeoutMs) break;
    await sleep(pollMs);
    current = (await backend.ledger.getRun(current.runId)) ?? current;
  }
  out.progress('', { transient: true, done: true });
  return current;
}

export type { RunReport };
