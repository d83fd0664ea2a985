import { createReadStream } from 'node:fs';
import {
  type FetcherInput,
  type FetcherResult,
  type JhuRawRow,
  manualRunId,
  type NytRawRow,
  SOURCE_LABELS,
  type SourceId,
  type SourceIdentity,
  scheduledRunId,
  type TransformChunkMessage,
} from '@covid-etl/contracts';
import {
  assertChunkSize,
  ChunkTooLargeError,
  chunkRawByMonth,
  extractJhuRows,
  extractNytRows,
  StructuralError,
} from '@covid-etl/core';
import {
  type BaselineLedger,
  type Clock,
  describeError,
  type Logger,
  type MessageSender,
  PermanentError,
  type RunFinalizer,
  type RunItem,
  type RunLedger,
  type SourceBaseline,
} from '@covid-etl/platform';
import { assertBeforeDeadline } from '../deadline.js';
import {
  type DownloadedSource,
  type SourceDownloader,
  type SourceResponse,
  SourceUnavailableError,
} from '../source-downloader.js';

export interface StartRunDeps {
  environment: string;
  defaultUrls: Record<SourceId, string>;
  ledger: RunLedger & BaselineLedger;
  transformerQueue: MessageSender;
  downloader: SourceDownloader;
  finalizer: RunFinalizer;
  clock: Clock;
  logger: Logger;
}

/** A source URL that this environment does not accept. */
export class SourceUrlRefusedError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'SourceUrlRefusedError';
  }
}

const SOURCES: readonly SourceId[] = ['nyt', 'jhu'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The source URLs of a run: the overrides of the input, else the configured defaults.
 * HTTPS is accepted everywhere; `http://127.0.0.1…`/`localhost` and `file://` only in the
 * local environment.
 */
export function resolveSourceUrls(
  overrides: FetcherInput['sources'],
  defaults: Record<SourceId, string>,
  environment: string,
): Record<SourceId, string> {
  const urls = {} as Record<SourceId, string>;
  for (const id of SOURCES) {
    const url = overrides?.[id] ?? defaults[id];
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SourceUrlRefusedError(`${id} URL "${url}" is not a URL (expected https://…, or file:// locally)`);
    }
    const local = environment === 'local';
    const allowed =
      parsed.protocol === 'https:' ||
      (local && parsed.protocol === 'file:') ||
      (local && parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname));
    if (!allowed) {
      throw new SourceUrlRefusedError(
        `${id} URL "${url}" is refused in the ${environment} environment: only https:// URLs${local ? ', http://127.0.0.1 and file://' : ''} are accepted`,
      );
    }
    urls[id] = url;
  }
  return urls;
}

export interface StartRunOptions {
  /**
   * Epoch ms by which the run must be dispatched (see `fetcherDeadline`): downloads are cut
   * to it, and a run still not dispatched then ends FAILED instead of being killed RUNNING.
   */
  deadline?: number;
}

/**
 * Starts (or joins) one pipeline run: records it in the ledger first, downloads both sources
 * (conditionally), extracts and validates their structure, groups the raw rows into month
 * chunks, skips months whose content equals the last successful load, records the dispatch
 * plan and sends one message per changed month to the transformer queue.
 *
 * Idempotent per run id: a duplicate invocation of the same scheduled time joins the run; a
 * run whose fetcher died before sending every chunk is dispatched again (duplicates are
 * harmless downstream). Any error once the run item exists (an unusable source, a chunk too
 * large, the deadline, a failing queue) ends the run FAILED with a one-line reason and one
 * `EtlRunFailed`, before anything more is sent; unchanged sources end it SUCCEEDED with nothing
 * to do. Only a crash (the process dies) leaves it RUNNING, for a retry to resume.
 */
export async function startRun(
  input: FetcherInput,
  deps: StartRunDeps,
  { deadline }: StartRunOptions = {},
): Promise<FetcherResult> {
  const now = deps.clock.now();
  const runId = input.scheduledTime ? scheduledRunId(input.scheduledTime) : manualRunId(now);
  const log = deps.logger.child({ runId });
  const urls = resolveSourceUrls(input.sources, deps.defaultUrls, deps.environment);

  const { created, run } = await deps.ledger.createRun({
    runId,
    environment: deps.environment,
    trigger: input.trigger,
    status: 'RUNNING',
    startedAt: now.toISOString(),
    dispatch: 'PENDING',
    sources: [],
    months: [],
    skipped: { months: 0, records: 0 },
  });
  if (!created && (run.status !== 'RUNNING' || run.dispatch === 'SENT')) {
    log.info({ status: run.status }, 'duplicate invocation: joined the existing run');
    return { runId, joined: true, status: run.status, chunks: run.months.length };
  }
  if (!created) log.warn('resuming a run whose dispatch did not finish');
  log.info({ trigger: input.trigger, urls }, 'run started');

  const downloads: DownloadedSource[] = [];
  try {
    const baselines = await deps.ledger.getSourceBaselines();
    const fetched = await downloadBoth(urls, baselines, deps.downloader, deadline);
    assertBeforeDeadline(deadline, 'downloading the sources');
    if (!fetched) return await finishUnchanged(run, urls, baselines, deps, log, 'not modified (HTTP 304)');
    downloads.push(fetched.nyt, fetched.jhu);
    const sources = SOURCES.map((id) => identity(id, urls[id], fetched[id]));
    if (SOURCES.every((id) => baselines.get(id)?.sha256 === fetched[id].sha256)) {
      return await finishUnchanged({ ...run, sources }, urls, baselines, deps, log, 'same content');
    }

    const nyt: NytRawRow[] = [];
    for await (const row of extractNytRows(createReadStream(fetched.nyt.file))) nyt.push(row);
    const jhu: JhuRawRow[] = [];
    for await (const row of extractJhuRows(createReadStream(fetched.jhu.file))) jhu.push(row);
    log.info({ nytRows: nyt.length, jhuRows: jhu.length }, 'sources extracted');
    assertBeforeDeadline(deadline, 'reading the sources');

    const chunks = chunkRawByMonth(nyt, jhu);
    const monthStates = await deps.ledger.getMonthStates();
    // A month state written by this very run (an earlier, interrupted dispatch of it) is not a
    // baseline: skipping that month would leave its chunk item outside the plan and finish the run early.
    const unchanged = (chunk: { month: string; hash: string }) => {
      const state = monthStates.get(chunk.month);
      return state?.hash === chunk.hash && state.runId !== runId;
    };
    const changed = chunks.filter((chunk) => !unchanged(chunk));
    const skippedMonths = chunks.filter(unchanged);
    const skipped = {
      months: skippedMonths.length,
      records: skippedMonths.reduce((sum, chunk) => sum + (monthStates.get(chunk.month)?.records ?? 0), 0),
    };
    const messages = changed.map((chunk) => {
      const message: TransformChunkMessage = {
        version: 1,
        runId,
        month: chunk.month,
        hash: chunk.hash,
        nyt: chunk.nyt,
        jhu: chunk.jhu,
      };
      assertChunkSize(message);
      return { id: chunk.month.replace('-', '_'), body: JSON.stringify(message) };
    });

    const hashes = Object.fromEntries(changed.map((chunk) => [chunk.month, chunk.hash]));
    assertBeforeDeadline(deadline, 'planning the chunks');
    await deps.ledger.recordDispatchPlan(runId, { sources, months: changed.map((c) => c.month), hashes, skipped });
    await deps.transformerQueue.sendAll(messages);
    await deps.ledger.markDispatched(runId);
    log.info({ chunks: messages.length, skippedMonths: skipped.months }, 'chunks sent to the transformer');
    // Every chunk may already be loaded (or there were none): finishing is idempotent.
    const finished = await deps.finalizer.finishIfComplete(runId);
    return { runId, joined: !created, status: finished ?? 'RUNNING', chunks: messages.length };
  } catch (error) {
    const reason = describeFetchFailure(error);
    log.error({ err: error, reason }, 'run failed in the fetcher');
    try {
      const current = (await deps.ledger.getRun(runId)) ?? run;
      await deps.finalizer.finish(current, 'FAILED', { reason, stage: 'fetch' });
    } catch (finishing) {
      // The ledger itself is failing: leave the run RUNNING for a retry (or the watchdog).
      log.error({ err: finishing }, 'could not record the run as FAILED');
      throw error;
    }
    return { runId, joined: !created, status: 'FAILED', chunks: 0 };
  } finally {
    await Promise.all(downloads.map((download) => download.dispose()));
  }
}

/**
 * Downloads both sources, conditionally on the last successful run's validators. Returns
 * undefined when both answered 304; when only one did, it is downloaded again in full
 * (the join needs both).
 */
async function downloadBoth(
  urls: Record<SourceId, string>,
  baselines: Map<SourceId, SourceBaseline>,
  downloader: SourceDownloader,
  deadline: number | undefined,
): Promise<Record<SourceId, DownloadedSource> | undefined> {
  const conditional = (id: SourceId) => {
    const baseline = baselines.get(id);
    return { id, url: urls[id], etag: baseline?.etag, lastModified: baseline?.lastModified, deadline };
  };
  const first: Record<SourceId, SourceResponse> = {
    nyt: await downloader.download(conditional('nyt')),
    jhu: await downloader.download(conditional('jhu')),
  };
  if (first.nyt.status === 'not-modified' && first.jhu.status === 'not-modified') return undefined;
  const full = async (id: SourceId): Promise<DownloadedSource> => {
    const response = first[id];
    if (response.status === 'ok') return response;
    const again = await downloader.download({ id, url: urls[id], deadline });
    if (again.status !== 'ok') throw new SourceUnavailableError(id, 'answered 304 to an unconditional request');
    return again;
  };
  return { nyt: await full('nyt'), jhu: await full('jhu') };
}

function identity(id: SourceId, url: string, download: DownloadedSource): SourceIdentity {
  return {
    id,
    url,
    sha256: download.sha256,
    bytes: download.bytes,
    ...(download.etag ? { etag: download.etag } : {}),
    ...(download.lastModified ? { lastModified: download.lastModified } : {}),
  };
}

async function finishUnchanged(
  run: RunItem,
  urls: Record<SourceId, string>,
  baselines: Map<SourceId, SourceBaseline>,
  deps: StartRunDeps,
  log: Logger,
  why: string,
): Promise<FetcherResult> {
  const since = baselines.get('nyt')?.runId ?? 'the last successful run';
  const sources =
    run.sources.length > 0
      ? run.sources
      : SOURCES.flatMap((id) => {
          const baseline = baselines.get(id);
          return baseline
            ? [{ id, url: urls[id], sha256: baseline.sha256, bytes: 0, notModified: true, ...pickValidators(baseline) }]
            : [];
        });
  const note = `Both sources are unchanged since ${since} (${why}): nothing to do.`;
  await deps.ledger.recordDispatchPlan(run.runId, {
    sources,
    months: [],
    hashes: {},
    skipped: { months: 0, records: 0 },
  });
  await deps.ledger.markDispatched(run.runId);
  const current = (await deps.ledger.getRun(run.runId)) ?? run;
  await deps.finalizer.finish({ ...current, note }, 'SUCCEEDED');
  log.info({ why }, 'sources unchanged: run ended with nothing to do');
  return { runId: run.runId, joined: false, status: 'SUCCEEDED', chunks: 0 };
}

function pickValidators(baseline: SourceBaseline): Pick<SourceIdentity, 'etag' | 'lastModified'> {
  return {
    ...(baseline.etag ? { etag: baseline.etag } : {}),
    ...(baseline.lastModified ? { lastModified: baseline.lastModified } : {}),
  };
}

/** The one-line reason of a run the fetcher could not dispatch. */
function describeFetchFailure(error: unknown): string {
  const text = describeError(error).replace(/^\w+Error: /, '');
  if (error instanceof StructuralError || error instanceof SourceUnavailableError) {
    return `${text} (${SOURCE_LABELS[error.source]})`;
  }
  if (error instanceof ChunkTooLargeError) {
    return `${text}: a source has far more rows per month than one a day; nothing was sent`;
  }
  if (error instanceof PermanentError) return text;
  return `the fetcher failed: ${describeError(error)}`;
}
