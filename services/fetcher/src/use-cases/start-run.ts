import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  DEFAULT_QUALITY_GATES,
  DEFAULT_SOURCE_URLS,
  type FetcherInput,
  type FetcherResult,
  type GateTrip,
  GEO_SOURCE_FILES,
  type GeoLevel,
  type GeoSourceId,
  type JhuRawRow,
  manualRunId,
  NATIONAL_SOURCES,
  type NationalSourceId,
  type NytRawRow,
  type QualityGates,
  redactUrl,
  SOURCE_LABELS,
  type SourceId,
  type SourceIdentity,
  scheduledRunId,
} from '@covid-etl/contracts';
import {
  ChunkTooLargeError,
  chunkRawByMonth,
  extractJhuRows,
  extractNytRows,
  type RawMonthChunk,
  StructuralError,
  transformChunk,
} from '@covid-etl/core';
import {
  type Clock,
  describeError,
  type GeoCatalogRepository,
  type GeoLedger,
  type GeoSeriesStore,
  type HeldChunk,
  type HeldRunRepository,
  type LedgerRepository,
  type Logger,
  type MessageSender,
  PermanentError,
  type RunFinalizer,
  type RunItem,
  type SeriesRepository,
  type SourceBaseline,
  takeCostsForWrite,
} from '@covid-etl/platform';
import { assertBeforeDeadline } from '../deadline.js';
import {
  type DownloadedSource,
  type SourceDownloader,
  type SourceRequest,
  type SourceResponse,
  SourceUnavailableError,
} from '../source-downloader.js';
import { SourceUrlRefusedError, UrlPolicy } from '../url-policy.js';
import { decideRun } from './decide-run.js';
import { builtSnapshot, chunkMessages, dispatchSnapshot, recordGeoWork } from './dispatch.js';
import { evaluateGates } from './gates.js';
import { type GeoGateTrip, summarizeGeoTrips } from './geo-gates.js';
import { type GeoLevelWork, geoSourceOf, planGeoLevel, type SubNationalLevel } from './geo-sources.js';

export { SourceUrlRefusedError } from '../url-policy.js';

export interface StartRunDeps {
  environment: string;
  /** The national sources' URLs, and those of the states and counties files when configured. */
  defaultUrls: Record<NationalSourceId, string> & Partial<Record<GeoSourceId, string>>;
  ledger: LedgerRepository;
  /** Where a HELD run keeps its snapshot for `etl approve`. */
  held: HeldRunRepository;
  /** The loaded series, which the data-quality gates compare a new snapshot with. */
  series: Pick<SeriesRepository, 'query'>;
  transformerQueue: MessageSender;
  downloader: SourceDownloader;
  finalizer: RunFinalizer;
  clock: Clock;
  logger: Logger;
  /** Data-quality gate thresholds (default DEFAULT_QUALITY_GATES). */
  gates?: QualityGates;
  /** The geography levels a run loads unless its input says otherwise (default: the nation only). */
  levels?: readonly GeoLevel[];
  /** The day hashes, rejections and per-level plans of the states and counties (required with those levels). */
  geoLedger?: GeoLedger;
  /** The loaded states and counties, which their gates compare revised days with (required with those levels). */
  geoSeries?: Pick<GeoSeriesStore, 'getDays'>;
  /** The geography catalogue: each state's loaded dates, which a states or counties file must cover (`last-date`, `missing-dates`). */
  geoCatalog?: Pick<GeoCatalogRepository, 'loadedDatesByState'>;
}

const SOURCES: readonly NationalSourceId[] = NATIONAL_SOURCES;

/**
 * The URL of a states or counties source: the input's override, else the configured one, else
 * the publisher's public URL; checked against the URL policy like the national ones.
 */
function geoUrl(
  id: GeoSourceId,
  overrides: FetcherInput['sources'],
  deps: Pick<StartRunDeps, 'defaultUrls'>,
  policy: UrlPolicy,
): string {
  const url = overrides?.[id] ?? deps.defaultUrls[id] ?? DEFAULT_SOURCE_URLS[id];
  policy.checkSyntax(id, url);
  return url;
}

function policyFor(deps: Pick<StartRunDeps, 'environment'>): UrlPolicy {
  return new UrlPolicy({ environment: deps.environment });
}

/**
 * The source URLs of a run: the overrides of the input, else the configured defaults, checked
 * against the environment's URL policy (scheme and host; the downloader checks the resolved
 * address of every hop). HTTPS is accepted everywhere; `http://127.0.0.1…`/`localhost` and
 * `file://` only in the local environment. Errors show the URL redacted.
 */
export function resolveSourceUrls(
  overrides: FetcherInput['sources'],
  defaults: Record<NationalSourceId, string>,
  environment: string,
  policy = new UrlPolicy({ environment }),
): Record<NationalSourceId, string> {
  const urls = {} as Record<NationalSourceId, string>;
  for (const id of SOURCES) {
    const url = overrides?.[id] ?? defaults[id];
    policy.checkSyntax(id, url);
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

/** Identifies a URL without holding it (the URL may carry a secret): baselines are kept per URL. */
export function urlKey(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 32);
}

/**
 * Starts (or joins) one pipeline run: records it in the ledger first, downloads both sources
 * (conditionally, with the validators of the same URL's last successful run only), extracts
 * and validates their structure, evaluates the data-quality gates against the loaded series,
 * and either holds the run (HELD: nothing written, the snapshot kept for `etl approve`) or
 * groups the raw rows into month chunks, skips months whose content equals the last successful
 * load, records the dispatch plan and sends one message per changed month to the transformer queue.
 * An input with a `decision` approves or rejects a HELD run instead.
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
  if (input.decision) return decideRun(input.decision, deps);
  const now = deps.clock.now();
  const runId = input.scheduledTime ? scheduledRunId(input.scheduledTime, input.backfill) : manualRunId(now);
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
  log.info({ trigger: input.trigger, urls: { nyt: redactUrl(urls.nyt), jhu: redactUrl(urls.jhu) } }, 'run started');

  const levels = input.levels ?? deps.levels ?? ['nation'];
  const geoLevels = levels.filter((level): level is SubNationalLevel => level !== 'nation');
  const downloads: DownloadedSource[] = [];
  try {
    if (geoLevels.length > 0 && !deps.geoLedger) {
      throw new PermanentError('the fetcher is configured with states or counties but has no geo ledger');
    }
    const nation = levels.includes('nation') ? await readNation(urls, deps, downloads, deadline, log) : undefined;
    const geo: GeoLevelWork[] = [];
    for (const level of geoLevels) {
      const sourceId = geoSourceOf(level, input.backfill);
      const url = geoUrl(sourceId, input.sources, deps, policyFor(deps));
      const work = await planGeoLevel(
        runId,
        level,
        sourceId,
        url,
        urlKey(url),
        {
          downloader: deps.downloader,
          geoLedger: deps.geoLedger as GeoLedger,
          getSourceBaseline: (id, key) => deps.ledger.getSourceBaseline(id, key),
          thresholds: deps.gates ?? DEFAULT_QUALITY_GATES,
          ...(deps.geoSeries ? { readStoredDays: (keys) => (deps.geoSeries as GeoSeriesStore).getDays(keys) } : {}),
          ...(deps.geoCatalog
            ? { loadedDates: (geoLevel) => (deps.geoCatalog as GeoCatalogRepository).loadedDatesByState(geoLevel) }
            : {}),
        },
        deadline,
      );
      if (work.download) downloads.push(work.download);
      log.info({ level, ...work.plan }, 'geography level planned');
      geo.push(work);
      assertBeforeDeadline(deadline, `planning the ${level} level`);
    }
    const geoSources = geo.map((work) => work.source);
    const geoMessages = geo.reduce((sum, work) => sum + work.parts.length, 0);
    const thresholds = deps.gates ?? DEFAULT_QUALITY_GATES;
    // Judged before "nothing to send": a file that only lost geographies (a state's months, a
    // county) changes no day, yet must be held, not finished as if nothing happened.
    const geoTrips = geo.flatMap((work) =>
      summarizeGeoTrips(work.level, GEO_SOURCE_FILES[work.plan.source], work.trips, thresholds),
    );

    if (nation?.kind !== 'changed' && geoMessages === 0 && geoTrips.length === 0) {
      const known = nation?.sources ?? [];
      if (geo.length > 0) await recordGeoWork(runId, geo, deps);
      return await finishUnchanged(
        { ...run, sources: [...known, ...geoSources] },
        geo,
        nation?.baselines ?? new Map(),
        deps,
        log,
        nation?.why ?? 'same content',
      );
    }
    const chunks = nation?.kind === 'changed' ? nation.chunks : [];
    const sources = [...(nation?.sources ?? []), ...geoSources];
    const trips = nation?.kind === 'changed' ? await checkGates(chunks, deps) : [];
    trips.push(...geoTrips);
    // One decision per run: a trip anywhere holds the whole snapshot, nation, states and counties.
    if (trips.length > 0) return await holdRun(run, sources, chunks, geo, trips, deps, log);

    assertBeforeDeadline(deadline, 'planning the chunks');
    if (geo.length > 0) await recordGeoWork(runId, geo, deps);
    const dispatched = await dispatchSnapshot(runId, builtSnapshot(runId, chunks, geo), sources, deps, log);
    return { runId, joined: !created, status: dispatched.status, chunks: dispatched.chunks };
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

/** What the national sources hold for this run: nothing new (with why), or the month chunks of a new snapshot. */
type NationRead =
  | { kind: 'unchanged'; sources: SourceIdentity[]; baselines: Map<NationalSourceId, SourceBaseline>; why: string }
  | {
      kind: 'changed';
      sources: SourceIdentity[];
      baselines: Map<NationalSourceId, SourceBaseline>;
      chunks: RawMonthChunk[];
      why?: undefined;
    };

/**
 * Downloads the national sources (conditionally, per-URL validators), and either reports them
 * unchanged (304 on both, or both the same bytes as their baselines) or extracts and joins
 * them into month chunks. Exactly the national pipeline as it was before geographies.
 */
async function readNation(
  urls: Record<NationalSourceId, string>,
  deps: StartRunDeps,
  downloads: DownloadedSource[],
  deadline: number | undefined,
  log: Logger,
): Promise<NationRead> {
  const baselines = new Map<NationalSourceId, SourceBaseline>();
  const keyed = SOURCES.map((id) => ({ id, urlKey: urlKey(urls[id]) }));
  const stored = await deps.ledger.getSourceBaselines(keyed);
  for (const { id, urlKey: key } of keyed) {
    const baseline = stored.get(`${id}#${key}`);
    if (baseline) baselines.set(id, baseline);
  }
  const fetched = await downloadBoth(urls, baselines, deps.downloader, deadline, downloads);
  assertBeforeDeadline(deadline, 'downloading the sources');
  if (!fetched) {
    return { kind: 'unchanged', sources: baselineSources(urls, baselines), baselines, why: 'not modified (HTTP 304)' };
  }
  let sources = SOURCES.map((id) => identity(id, urls[id], fetched[id]));
  if (SOURCES.every((id) => baselines.get(id)?.sha256 === fetched[id].sha256)) {
    const known = sources.map((source) => ({
      ...source,
      ...snapshotShape(baselines.get(source.id as NationalSourceId)),
    }));
    return { kind: 'unchanged', sources: known, baselines, why: 'same content' };
  }

  const nyt: NytRawRow[] = [];
  for await (const row of extractNytRows(createReadStream(fetched.nyt.file))) nyt.push(row);
  const jhu: JhuRawRow[] = [];
  for await (const row of extractJhuRows(createReadStream(fetched.jhu.file))) jhu.push(row);
  log.info({ nytRows: nyt.length, jhuRows: jhu.length }, 'sources extracted');
  assertBeforeDeadline(deadline, 'reading the sources');
  sources = sources.map((source) => ({ ...source, ...rowsShape(source.id === 'nyt' ? nyt : jhu) }));
  return { kind: 'changed', sources, baselines, chunks: chunkRawByMonth(nyt, jhu) };
}

/** The data-quality gates on the joined series of the snapshot, against the loaded series. */
async function checkGates(chunks: readonly RawMonthChunk[], deps: StartRunDeps): Promise<GateTrip[]> {
  const snapshot = chunks.flatMap((chunk) => transformChunk(chunk).records);
  const loaded = await deps.series.query();
  return evaluateGates({
    snapshot,
    loaded,
    cumulative: ['cases', 'deaths'],
    values: ['cases', 'deaths', 'recovered'],
    thresholds: deps.gates ?? DEFAULT_QUALITY_GATES,
  });
}

/** Most gate messages the one-line reason of a HELD run quotes (the run's `gates` has them all). */
const REASON_TRIPS = 3;
/** Longest quote of one gate message in the reason (a level's line, three geographies named, fits). */
const REASON_TRIP_CHARS = 700;

/** The one-line reason of a HELD run: the first gates with their figures, the others counted. */
export function heldReason(runId: string, trips: readonly GateTrip[]): string {
  const quoted = trips
    .slice(0, REASON_TRIPS)
    .map((t) => (t.message.length > REASON_TRIP_CHARS ? `${t.message.slice(0, REASON_TRIP_CHARS - 1)}…` : t.message));
  const more = trips.length > quoted.length ? `; and ${trips.length - quoted.length} more (see etl status)` : '';
  return (
    `Held: the snapshot tripped ${trips.length} data-quality gate(s): ${quoted.join('; ')}${more}. ` +
    `Nothing was loaded. Load it anyway with \`pnpm etl approve ${runId}\`, or end it with \`pnpm etl reject ${runId}\`.`
  ).replace(/[\r\n]+/g, ' ');
}

/**
 * Ends a run HELD: keeps its whole snapshot for `etl approve` (every month chunk of the nation
 * and every planned part of the states and counties, as the messages it would have sent), every
 * geography's trip, its sources, the states' and counties' plan and rejected rows, and
 * announces it once (`EtlRunFailed`, one line per gate). Nothing is written to the data table
 * and no baseline, month hash or day hash changes, so the next run compares the same days again.
 */
async function holdRun(
  run: RunItem,
  sources: SourceIdentity[],
  chunks: readonly RawMonthChunk[],
  geo: readonly GeoLevelWork[],
  trips: GateTrip[],
  deps: StartRunDeps,
  log: Logger,
): Promise<FetcherResult> {
  // The parts' bodies are built as they are stored, 25 at a time (as `dispatchSnapshot` sends them),
  // each with its key and hash beside it: approve records its plan without reading a body.
  function* held(): Generator<HeldChunk> {
    yield* chunkMessages(run.runId, chunks);
    for (const work of geo) {
      for (const part of work.messages()) yield { month: part.key, hash: part.hash, body: part.body };
    }
  }
  await deps.held.putChunks(run.runId, held());
  const geoTrips: GeoGateTrip[] = geo.flatMap((work) => work.trips);
  if (geoTrips.length > 0) await deps.held.putTrips(run.runId, geoTrips);
  if (geo.length > 0) await recordGeoWork(run.runId, geo, deps);
  const current = await recordNothingToSend(run.runId, sources, deps);
  const sameBytes = (other: RunItem) =>
    other.sources.length === sources.length &&
    sources.every((source) => other.sources.some((s) => s.id === source.id && s.sha256 === source.sha256));
  const others = (await deps.ledger.listRuns(50)).filter(
    (other) => other.status === 'HELD' && other.runId !== run.runId && sameBytes(other),
  );
  const note = others.length
    ? `The same snapshot is already held by ${others.map((o) => o.runId).join(', ')}.`
    : undefined;
  await deps.finalizer.finish({ ...current, gates: trips, ...(note ? { note } : {}) }, 'HELD', {
    reason: heldReason(run.runId, trips),
    stage: 'gates',
  });
  log.warn({ gates: trips, geographies: geoTrips.length }, 'run held: the snapshot tripped data-quality gates');
  return { runId: run.runId, joined: false, status: 'HELD', chunks: 0 };
}

/**
 * Downloads both sources at once, conditionally on the validators of the last successful run
 * that read the same URL. Returns undefined when both answered 304; when only one did, it is
 * downloaded again in full (the join needs both). Every body downloaded goes into `downloads`
 * as soon as it is on disk, so the caller disposes of it whatever happens next (the other
 * source failing included).
 */
async function downloadBoth(
  urls: Record<NationalSourceId, string>,
  baselines: Map<NationalSourceId, SourceBaseline>,
  downloader: SourceDownloader,
  deadline: number | undefined,
  downloads: DownloadedSource[],
): Promise<Record<NationalSourceId, DownloadedSource> | undefined> {
  const tracked = async (request: SourceRequest): Promise<SourceResponse> => {
    const response = await downloader.download(request);
    if (response.status === 'ok') downloads.push(response);
    return response;
  };
  const conditional = (id: NationalSourceId) => {
    const baseline = baselines.get(id);
    return tracked({ id, url: urls[id], etag: baseline?.etag, lastModified: baseline?.lastModified, deadline });
  };
  const [nyt, jhu] = await settledBoth(conditional('nyt'), conditional('jhu'));
  if (nyt.status === 'not-modified' && jhu.status === 'not-modified') return undefined;
  const full = async (id: NationalSourceId, response: SourceResponse): Promise<DownloadedSource> => {
    if (response.status === 'ok') return response;
    const again = await tracked({ id, url: urls[id], deadline });
    if (again.status !== 'ok') throw new SourceUnavailableError(id, 'answered 304 to an unconditional request');
    return again;
  };
  const [fullNyt, fullJhu] = await settledBoth(full('nyt', nyt), full('jhu', jhu));
  return { nyt: fullNyt, jhu: fullJhu };
}

/** Both results once both have settled (neither left running), or the first one's error. */
async function settledBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}

/** The identity of the bytes actually read: redacted URL, its key, digest, size and validators. */
function identity(id: SourceId, url: string, download: DownloadedSource): SourceIdentity {
  return {
    id,
    url: redactUrl(url),
    urlKey: urlKey(url),
    sha256: download.sha256,
    bytes: download.bytes,
    ...(download.etag ? { etag: download.etag } : {}),
    ...(download.lastModified ? { lastModified: download.lastModified } : {}),
  };
}

function rowsShape(rows: readonly { date: string }[]): Pick<SourceIdentity, 'rows' | 'firstDate' | 'lastDate'> {
  let firstDate: string | undefined;
  let lastDate: string | undefined;
  for (const { date } of rows) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) continue;
    if (!firstDate || date < firstDate) firstDate = date;
    if (!lastDate || date > lastDate) lastDate = date;
  }
  return { rows: rows.length, ...(firstDate ? { firstDate } : {}), ...(lastDate ? { lastDate } : {}) };
}

function snapshotShape(baseline: SourceBaseline | undefined): Pick<SourceIdentity, 'rows' | 'firstDate' | 'lastDate'> {
  return {
    ...(baseline?.rows !== undefined ? { rows: baseline.rows } : {}),
    ...(baseline?.firstDate ? { firstDate: baseline.firstDate } : {}),
    ...(baseline?.lastDate ? { lastDate: baseline.lastDate } : {}),
  };
}

async function finishUnchanged(
  run: RunItem,
  geo: readonly GeoLevelWork[],
  baselines: Map<NationalSourceId, SourceBaseline>,
  deps: StartRunDeps,
  log: Logger,
  why: string,
): Promise<FetcherResult> {
  const since = baselines.get('nyt')?.runId ?? 'the last successful run';
  const sources = run.sources;
  const geoOnly = !run.sources.some((source) => source.id === 'nyt');
  // A states or counties file that was read (its bytes changed) is not "unchanged": say what it held.
  const read = geo.some((work) => !work.plan.unchanged) ? geo.map(geoNothingToSend).join('; ') : undefined;
  const note = geoOnly
    ? read
      ? `Nothing to load: ${read}.`
      : 'The states and counties are unchanged since their last successful load: nothing to do.'
    : read
      ? `The national sources are unchanged since ${since} (${why}); ${read}: nothing to do.`
      : `${run.sources.length > 2 ? 'Every source is' : 'Both sources are'} unchanged since ${since} (${why}): nothing to do.`;
  const current = await recordNothingToSend(run.runId, sources, deps);
  // PARTIAL when a changed states or counties file had rejected rows (though none of its days changed).
  const status = (await deps.finalizer.complete({ ...current, note })) ?? 'SUCCEEDED';
  log.info({ why, status }, 'sources unchanged: run ended with nothing to do');
  return { runId: run.runId, joined: false, status, chunks: 0 };
}

/** The identities of the national sources after a 304 on both: the bytes of each URL's own baseline. */
function baselineSources(
  urls: Record<NationalSourceId, string>,
  baselines: Map<NationalSourceId, SourceBaseline>,
): SourceIdentity[] {
  return SOURCES.flatMap((id) => {
    const baseline = baselines.get(id);
    return baseline
      ? [
          {
            id,
            url: redactUrl(urls[id]),
            urlKey: urlKey(urls[id]),
            sha256: baseline.sha256,
            bytes: baseline.bytes ?? 0,
            notModified: true,
            ...pickValidators(baseline),
            ...snapshotShape(baseline),
          },
        ]
      : [];
  });
}

/**
 * What a states or counties level that sends nothing held, for the run's note: its bytes were
 * those of its last successful load, every row was rejected, or every row is as loaded.
 */
function geoNothingToSend({ plan }: GeoLevelWork): string {
  const file = GEO_SOURCE_FILES[plan.source];
  if (plan.unchanged) return `${file} is unchanged since its last successful load`;
  // Nothing sent and no day compared: no row was valid (a file without rows fails, structurally).
  if (plan.skippedDays === 0) return `every row of ${file} was rejected`;
  const rows = plan.skippedRecords ?? plan.skippedDays;
  return `every row of ${file} is as loaded (${rows.toLocaleString('en-US')} compared)`;
}

/** Records the run's sources with an empty plan (a run that sends no chunk: unchanged or held) and marks it dispatched, in one write; the run as it is after it. */
function recordNothingToSend(runId: string, sources: SourceIdentity[], deps: StartRunDeps): Promise<RunItem> {
  return deps.ledger.recordNothingToSend(runId, sources, takeCostsForWrite());
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
  if (error instanceof StructuralError && error.file !== undefined) return text;
  if (error instanceof StructuralError || error instanceof SourceUnavailableError) {
    return `${text} (${SOURCE_LABELS[error.source]})`;
  }
  if (error instanceof SourceUrlRefusedError) return error.message;
  if (error instanceof ChunkTooLargeError) {
    return `${text}: a source has far more rows per month than one a day; nothing was sent`;
  }
  if (error instanceof PermanentError) return text;
  return `the fetcher failed: ${describeError(error)}`;
}
