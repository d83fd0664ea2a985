import { createReadStream } from 'node:fs';
import {
  GEO_SOURCE_FILES,
  type GeoLevel,
  type GeoLevelPlan,
  type GeoRejectedRow,
  type GeoSourceId,
  parseChunkKey,
  type QualityGates,
  redactUrl,
  type SourceIdentity,
} from '@covid-etl/contracts';
import {
  changedDays,
  chunksCoveredBy,
  extractGeoRows,
  type GeoChunk,
  GeoChunkPlanner,
  geoPartMessage,
  planParts,
} from '@covid-etl/core';
import type { GeoLedger, SourceBaseline } from '@covid-etl/platform';
import type { DownloadedSource, SourceDownloader } from '../source-downloader.js';
import { GeoGateCollector, type GeoGateTrip, type StoredDaysReader } from './geo-gates.js';

/** A level of geography other than the nation. */
export type SubNationalLevel = Exclude<GeoLevel, 'nation'>;

/** The source a level reads: the states file; the rolling counties file daily, the full one on a backfill. */
export function geoSourceOf(level: SubNationalLevel, backfill: 'counties' | undefined): GeoSourceId {
  if (level === 'state') return 'states';
  return backfill === 'counties' ? 'counties' : 'counties-recent';
}

/** A part of the plan: its key and its chunk's hash. */
export interface GeoPartKey {
  key: string;
  hash: string;
}

/** A part's transformer message (a `GeoChunkMessage` as JSON). */
export interface GeoPartMessage extends GeoPartKey {
  body: string;
}

/** One level's work for a run: its source, its plan, the messages to send and the rejections to keep. */
export interface GeoLevelWork {
  level: SubNationalLevel;
  source: SourceIdentity;
  plan: GeoLevelPlan;
  /** The parts to send (key = part key, hash = its chunk's), in key order: the dispatch plan. */
  parts: GeoPartKey[];
  /**
   * Builds the parts' messages, in the order of `parts`, one changed chunk at a time (its few
   * parts), as they are read: the bodies of a county backfill (~420 MB) never exist all at once.
   * Deterministic: every call builds the same bodies (a re-dispatch or a held run sends exactly these).
   */
  messages(): Generator<GeoPartMessage>;
  /** Rejected rows by chunk key (`<level>` for rows whose state or month is unreadable). */
  rejections: Map<string, GeoRejectedRow[]>;
  /** Every data-quality gate the level trips, per geography (empty: it may be loaded). */
  trips: GeoGateTrip[];
  download?: DownloadedSource;
}

export interface PlanGeoLevelDeps {
  downloader: SourceDownloader;
  /** `getDayGeos` is read for counties only, for the chunks with a changed day that was loaded before. */
  geoLedger: Pick<GeoLedger, 'getDayHashes' | 'getDayGeos'>;
  getSourceBaseline(id: GeoSourceId, urlKey: string): Promise<SourceBaseline | undefined>;
  /** The data-quality gate thresholds (the nation's). */
  thresholds: QualityGates;
  /** The loaded values of revised days (`GeoSeriesStore.getDays`): read only when a loaded day changes. */
  readStoredDays?: StoredDaysReader;
  /**
   * Per state, the first and last dates loaded of a level (`GeoCatalogRepository.loadedDatesByState`):
   * read once per parsed file, for `last-date` (any file) and `missing-dates` before a full file's
   * first date. Unset: the gates see the chunks of the file's own dates only.
   */
  loadedDates?: (level: SubNationalLevel) => Promise<ReadonlyMap<string, { first: string; last: string }>>;
}

/**
 * Reads one level's source and plans its messages: a conditional download (validators of this
 * very URL's baseline only); the same bytes as the baseline, or a 304, send nothing and parse
 * nothing. Otherwise the file is parsed with `extractGeoRows` (a structural error throws: the
 * run fails, naming the file), grouped by `GeoChunkPlanner` into (level, state, month) chunks,
 * compared day by day with the stored day hashes and cut into `planParts` parts of the
 * changed days: the plan keeps their keys and, per changed chunk, what rebuilds them (the
 * chunk, its changed days); the message bodies are built by `messages()` as they are sent,
 * never all at once. For the rolling counties file only the chunks `chunksCoveredBy` its
 * first..last date are read from the ledger: no other month is read or compared. Those the
 * file lacks entirely are read too (a full file's as well): their loaded dates are missing
 * dates. Rejected rows are kept by chunk; a chunk with any sends its parts with `baseline:
 * false`. The data-quality gates are evaluated per geography over the changed days
 * (`GeoGateCollector`); the data table is read only for the loaded values of revised days, so
 * an unchanged re-run reads nothing from it.
 */
export async function planGeoLevel(
  runId: string,
  level: SubNationalLevel,
  sourceId: GeoSourceId,
  url: string,
  urlKey: string,
  deps: PlanGeoLevelDeps,
  deadline: number | undefined,
): Promise<GeoLevelWork> {
  const baseline = await deps.getSourceBaseline(sourceId, urlKey);
  const response = await deps.downloader.download({
    id: sourceId,
    url,
    ...(baseline?.etag ? { etag: baseline.etag } : {}),
    ...(baseline?.lastModified ? { lastModified: baseline.lastModified } : {}),
    deadline,
  });
  const empty = (source: SourceIdentity): GeoLevelWork => ({
    level,
    source,
    plan: emptyPlan(sourceId, true),
    parts: [],
    messages: function* () {},
    rejections: new Map(),
    trips: [],
  });
  if (response.status === 'not-modified') {
    if (!baseline) throw new Error(`${sourceId}: answered 304 to an unconditional request`);
    return empty(baselineIdentity(sourceId, url, urlKey, baseline, true));
  }
  const source: SourceIdentity = {
    id: sourceId,
    url: redactUrl(url),
    urlKey,
    sha256: response.sha256,
    bytes: response.bytes,
    ...(response.etag ? { etag: response.etag } : {}),
    ...(response.lastModified ? { lastModified: response.lastModified } : {}),
  };
  if (baseline?.sha256 === response.sha256) {
    await response.dispose();
    return empty({ ...baselineIdentity(sourceId, url, urlKey, baseline, false), ...source });
  }

  // The body is on disk from here: a failure (a structural error in the file, the ledger) disposes of it.
  try {
    return await planDownloaded(runId, level, sourceId, source, baseline, response, deps);
  } catch (error) {
    await response.dispose();
    throw error;
  }
}

/** `planGeoLevel` once a changed body is on disk: parse, compare with the stored day hashes, plan the parts. */
async function planDownloaded(
  runId: string,
  level: SubNationalLevel,
  sourceId: GeoSourceId,
  source: SourceIdentity,
  baseline: SourceBaseline | undefined,
  response: DownloadedSource,
  deps: PlanGeoLevelDeps,
): Promise<GeoLevelWork> {
  const file = GEO_SOURCE_FILES[sourceId];
  const planner = new GeoChunkPlanner(level);
  await planner.addAll(
    extractGeoRows(createReadStream(response.file), { kind: level === 'state' ? 'states' : 'counties', file }),
  );
  const chunks = planner.chunks();
  let firstDate: string | undefined;
  let lastDate: string | undefined;
  for (const chunk of chunks) {
    const first = chunk.days[0]?.date;
    const last = chunk.days.at(-1)?.date;
    if (first && (!firstDate || first < firstDate)) firstDate = first;
    if (last && (!lastDate || last > lastDate)) lastDate = last;
  }
  const rejected = planner.rejected;

  // What is loaded of the level, per state: a file must reach its last date, and a full file
  // (every date from the start) its first date too.
  const loaded = chunks.length > 0 ? await deps.loadedDates?.(level) : undefined;
  const rolling = sourceId === 'counties-recent';
  let from = firstDate;
  if (!rolling) for (const { first } of loaded?.values() ?? []) if (from && first < from) from = first;

  // Which stored day hashes to read: the recent file can only have changed the chunks its dates cover.
  // Every chunk its dates cover is read, those the file lacks too: their loaded dates are missing
  // (a full file's from the earliest loaded date).
  const fileKeys = new Set(chunks.map((chunk) => chunk.key));
  let keys = [...fileKeys];
  let covered: Map<string, Set<string>> | undefined;
  if (firstDate && lastDate && from) {
    const coveredChunks = chunksCoveredBy(level, rolling ? firstDate : from, lastDate);
    if (rolling) {
      covered = new Map(coveredChunks.map((c) => [c.key, new Set(c.dates)]));
      keys = [...covered.keys()];
    } else keys = [...new Set([...keys, ...coveredChunks.map((c) => c.key)])];
  }
  const stored = keys.length ? await deps.geoLedger.getDayHashes(keys) : new Map<string, Map<string, string>>();

  const gates = new GeoGateCollector({
    level,
    thresholds: deps.thresholds,
    rolling,
    from: from ?? '',
    to: lastDate ?? '',
    names: planner.names,
    loadedStates: new Set([...stored].filter(([, days]) => days.size > 0).map(([key]) => parseChunkKey(key).state)),
    ...(loaded ? { loadedLast: new Map([...loaded].map(([state, dates]) => [state, dates.last])) } : {}),
  });
  const plan = emptyPlan(sourceId, false);
  plan.chunks = chunks.length;
  plan.rejected = rejected.length;
  // Per changed chunk, what rebuilds its parts when they are sent: the chunk (typed columns and
  // day hashes, not records), its changed days and the part keys planned (checked on rebuild).
  const changedChunks: { chunk: GeoChunk; days: Set<string>; keys: string[] }[] = [];
  const parts: GeoPartKey[] = [];
  for (const chunk of chunks) {
    if (covered && !covered.has(chunk.key)) continue;
    const changed = new Set(changedDays(chunk, stored.get(chunk.key) ?? new Map()));
    gates.addChunk(chunk, stored.get(chunk.key), changed);
    plan.skippedDays += chunk.days.length - changed.size;
    for (const day of chunk.days)
      if (!changed.has(day.date)) plan.skippedRecords = (plan.skippedRecords ?? 0) + day.rows;
    if (changed.size === 0) continue;
    plan.changedChunks += 1;
    const keys: string[] = [];
    for (const part of planParts(chunk, changed)) {
      plan.parts += 1;
      plan.days += part.days.length;
      plan.records += part.records.length;
      keys.push(part.key);
      parts.push({ key: part.key, hash: chunk.hash });
    }
    changedChunks.push({ chunk, days: changed, keys });
  }
  function* messages(): Generator<GeoPartMessage> {
    for (const { chunk, days, keys } of changedChunks) {
      const rebuilt = planParts(chunk, days);
      if (rebuilt.map((part) => part.key).join() !== keys.join()) {
        throw new Error(`${chunk.key}: its parts differ from those planned (${keys.join(', ')})`);
      }
      for (const part of rebuilt) {
        const body = JSON.stringify(geoPartMessage(runId, chunk, part, { newChunk: !stored.has(chunk.key) }));
        yield { key: part.key, hash: chunk.hash, body };
      }
    }
  }
  for (const [key, days] of stored) {
    if (!fileKeys.has(key) && days.size > 0) gates.addAbsentChunk(parseChunkKey(key).state, days);
  }
  // A state's chunk holds only that state: a state missing on a day is a missing date, not a missing geography.
  const trips = await gates.finish(
    deps.readStoredDays,
    level === 'county' ? (chunkKeys) => deps.geoLedger.getDayGeos(chunkKeys) : undefined,
  );
  // The same file from the same URL as the last successful load, but ending earlier: a stale
  // copy, whether or not it changes a day.
  if (baseline?.lastDate && lastDate && lastDate < baseline.lastDate) {
    trips.unshift({
      gate: 'last-date',
      level,
      geo: level,
      message: `${file}: last date ${lastDate} is earlier than the ${baseline.lastDate} of its last successful load`,
    });
  }
  const rejections = new Map<string, GeoRejectedRow[]>();
  for (const row of rejected) {
    const key = row.chunk ?? level;
    const list = rejections.get(key) ?? [];
    list.push(row);
    rejections.set(key, list);
  }
  return {
    level,
    source: {
      ...source,
      rows: planner.records + rejected.length,
      ...(firstDate ? { firstDate } : {}),
      ...(lastDate ? { lastDate } : {}),
    },
    plan,
    parts,
    messages,
    rejections,
    trips,
    download: response,
  };
}

function emptyPlan(source: GeoSourceId, unchanged: boolean): GeoLevelPlan {
  return {
    source,
    chunks: 0,
    changedChunks: 0,
    parts: 0,
    days: 0,
    records: 0,
    skippedDays: 0,
    skippedRecords: 0,
    rejected: 0,
    ...(unchanged ? { unchanged: true } : {}),
  };
}

function baselineIdentity(
  id: GeoSourceId,
  url: string,
  urlKey: string,
  baseline: SourceBaseline,
  notModified: boolean,
): SourceIdentity {
  return {
    id,
    url: redactUrl(url),
    urlKey,
    sha256: baseline.sha256,
    bytes: baseline.bytes ?? 0,
    ...(notModified ? { notModified: true } : {}),
    ...(baseline.etag ? { etag: baseline.etag } : {}),
    ...(baseline.lastModified ? { lastModified: baseline.lastModified } : {}),
    ...(baseline.rows !== undefined ? { rows: baseline.rows } : {}),
    ...(baseline.firstDate ? { firstDate: baseline.firstDate } : {}),
    ...(baseline.lastDate ? { lastDate: baseline.lastDate } : {}),
  };
}
