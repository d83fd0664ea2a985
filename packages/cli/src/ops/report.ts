import {
  describeRunCosts,
  type GeoRejectedRow,
  levelCountsOf,
  printable,
  queueName,
  type RejectedRow,
  type RejectionCount,
  type RunCosts,
  type RunCounts,
  type RunSummary,
} from '@covid-etl/contracts';
import {
  type ChunkItem,
  countsByLevel,
  type HeldGeoTrip,
  type RunItem,
  rejectionsOf,
  sumCosts,
  toRunCosts,
} from '@covid-etl/platform';
import {
  countsText,
  formatDuration,
  formatLevelLines,
  formatPartialReason,
  formatTable,
  runStatus,
  type TableColumn,
} from '../format.js';
import { DEFAULT_TRIPS_SHOWN, formatTrips, sortTrips } from '../trips.js';
import { describeMessage, type OperatorBackend } from './backend.js';

/** How many messages of one DLQ the run reports read at most. */
export const LOCATE_MAX_MESSAGES = 1000;

/** Where the parked messages of each run are: runId → month (or `event:<detail-type>`) → DLQ name. */
export type ParkedMessages = Map<string, Map<string, string>>;

/**
 * Reads every non-empty DLQ of the environment (messages handed back at once) and maps each
 * run's parked chunks and events to the DLQ that holds them.
 */
export async function locateParkedMessages(backend: OperatorBackend): Promise<ParkedMessages> {
  const parked: ParkedMessages = new Map();
  for (const dlq of backend.deadLetterQueues()) {
    const depth = await backend.depth(dlq, { age: false });
    if (depth.visible === 0) continue;
    for (const message of await backend.peek(dlq, LOCATE_MAX_MESSAGES)) {
      const subject = describeMessage(message.body);
      if (!subject.runId) continue;
      const where = parked.get(subject.runId) ?? new Map<string, string>();
      where.set(subject.month ?? `event:${subject.detailType ?? subject.kind}`, dlq.name);
      parked.set(subject.runId, where);
    }
  }
  return parked;
}

export interface PendingChunkReport {
  month: string;
  /** The stage the chunk waits for. */
  stage: 'transform' | 'load';
  lastError?: ChunkItem['lastError'];
  /** The DLQ holding it, or where it should be (`in flight in <queue> (or lost)`). */
  location: string;
}

/** One run as the operator commands show it. */
export interface RunReport {
  runId: string;
  status: string;
  /** `fetch`, `transform`, `load`, `finish` while running; where it stopped otherwise; `done`. */
  stage: string;
  trigger: RunItem['trigger'];
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  /** The run's counts, all levels together. */
  counts: RunCounts;
  /** The counts per geography level of a run that read the states or counties (absent for the nation alone). */
  levels?: RunSummary['levels'];
  /** Where the rejected rows came from, per level and source file (absent when none). */
  rejections?: RejectionCount[];
  chunks: { expected: number; loaded: number; pending: number; skipped: number };
  pendingChunks: PendingChunkReport[];
  /** The nation's rejected rows (every one when the chunks were read, else the summary's first ones). */
  rejectedRows: RejectedRow[];
  /** The states' and counties' rejected rows the ledger keeps (up to 50 per chunk; `rejections` has the counts). */
  geoRejectedRows?: GeoRejectedRow[];
  /** The DLQs holding this run's messages (chunks or its notification). */
  deadLetterQueues: string[];
  failure?: { reason: string; stage?: string };
  /** The outcome event (EtlRunCompleted / EtlRunFailed): PUBLISHING until put on the bus, then PUBLISHED. */
  event?: { detailType: string; state: string };
  note?: string;
  dateRange: { from: string; to: string } | null;
  /** The data-quality gates the snapshot tripped, and the operator's decision on the HELD run. */
  gates?: NonNullable<RunItem['gates']>;
  /**
   * Every state and county that tripped a gate (the run's `gates` name three per gate), by gate
   * and level, most severe first: the detailed view of a run that tripped gates (absent otherwise).
   */
  geoTrips?: HeldGeoTrip[];
  decision?: RunItem['decision'];
  /** The run's cost drivers: its summary's, or what the run and its chunks recorded so far. */
  costs?: RunCosts;
}

function unparkedLocation(status: string, queue: string): string {
  return status === 'RUNNING' ? `in ${queue}` : `in no DLQ (still in ${queue}, or lost)`;
}

/** Where a run is: see RunReport.stage. */
export function runStage(run: RunItem, chunks: ChunkItem[]): string {
  const status = runStatus(run);
  if (status === 'SUCCEEDED' || status === 'PARTIAL') return 'done';
  if (status === 'FAILED') return run.failure?.stage ?? run.summary?.failure?.stage ?? 'fetch';
  if (status === 'HELD' || status === 'REJECTED') return 'gates';
  if (run.dispatch !== 'SENT') return 'fetch';
  if (chunks.some((chunk) => chunk.stage === 'SENT')) return 'transform';
  if (chunks.some((chunk) => chunk.stage === 'TRANSFORMED')) return 'load';
  return 'finish';
}

/**
 * Builds a run's report from its ledger items (chunks read when it is not finished cleanly).
 * Given `chunks` (the detailed view of `etl status` and `etl run --env`), it also lists the rows
 * the run's states and counties files rejected and, for a run that tripped gates (HELD, or
 * decided since), every state and county that tripped (one more Query, only for such a run).
 */
export async function buildRunReport(
  backend: OperatorBackend,
  run: RunItem,
  parked: ParkedMessages,
  chunks?: ChunkItem[],
): Promise<RunReport> {
  const status = runStatus(run);
  const finished = status === 'SUCCEEDED' || status === 'PARTIAL';
  const items = chunks ?? (finished && run.summary ? undefined : await backend.ledger.listChunks(run.runId));
  const where = parked.get(run.runId) ?? new Map<string, string>();
  const summary = run.summary;
  let counts: RunCounts;
  let rejectedRows: RejectedRow[];
  let loaded: number;
  let pending: PendingChunkReport[] = [];
  if (items) {
    const done = items.filter((chunk) => chunk.stage === 'LOADED');
    counts = { inserted: 0, updated: 0, unchanged: run.skipped?.records ?? 0, rejected: 0 };
    for (const chunk of done) {
      counts.inserted += chunk.counts?.inserted ?? 0;
      counts.updated += chunk.counts?.updated ?? 0;
      counts.unchanged += chunk.counts?.unchanged ?? 0;
      if (chunk.counts?.deleted) counts.deleted = (counts.deleted ?? 0) + chunk.counts.deleted;
    }
    rejectedRows = items
      .flatMap((chunk) => chunk.rejected ?? [])
      .sort((a, b) => a.source.localeCompare(b.source) || a.line - b.line);
    counts.rejected = rejectedRows.length;
    // The states' and counties' days skipped by hash and rows rejected are on the run item (the fetcher's plan).
    for (const plan of Object.values(run.geo ?? {})) {
      counts.unchanged += plan.skippedRecords ?? 0;
      counts.rejected += plan.rejected;
    }
    loaded = done.length;
    pending = items
      .filter((chunk) => chunk.stage !== 'LOADED')
      .sort((a, b) => a.month.localeCompare(b.month))
      .map((chunk) => {
        const stage = chunk.stage === 'SENT' ? 'transform' : 'load';
        return {
          month: chunk.month,
          stage,
          ...(chunk.lastError ? { lastError: chunk.lastError } : {}),
          location:
            where.get(chunk.month) ??
            unparkedLocation(status, queueName(backend.environment, stage === 'transform' ? 'transformer' : 'loader')),
        } satisfies PendingChunkReport;
      });
  } else {
    counts = summary?.counts ?? { inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
    rejectedRows = summary?.rejectedRows ?? [];
    loaded = summary?.chunks.loaded ?? 0;
  }
  const levels = items ? countsByLevel(run, items) : summary?.levels;
  const rejections = items ? rejectionsOf(run, items) : (summary?.rejections ?? []);
  // The detailed view (chunks given: status, run --env) lists the rows the states and counties
  // files rejected: one Query, only for a run whose plan says it has some.
  const geoRejectedRows =
    chunks && Object.values(run.geo ?? {}).some((plan) => plan.rejected > 0)
      ? (await backend.geoLedger.listRejections(run.runId))
          .flatMap((item) => item.rows)
          .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)
      : [];
  const gates = run.gates ?? summary?.gates;
  const geoTrips = chunks && gates?.length ? sortTrips(await backend.held.getTrips(run.runId)) : [];
  const failure = run.failure ?? summary?.failure;
  const recorded = items?.reduce((sum, chunk) => sumCosts(sum, chunk.costs), toRunCosts(run.costs));
  const costs = summary?.costs ?? (run.costs || items?.some((chunk) => chunk.costs) ? recorded : undefined);
  return {
    runId: run.runId,
    status,
    stage: runStage(run, items ?? []),
    trigger: run.trigger,
    startedAt: run.startedAt,
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
    ...(summary?.durationMs !== undefined ? { durationMs: summary.durationMs } : {}),
    counts,
    ...(levels ? { levels } : {}),
    ...(rejections.length ? { rejections } : {}),
    chunks: {
      expected: run.months?.length ?? 0,
      loaded,
      pending: pending.length,
      skipped: run.skipped?.months ?? 0,
    },
    pendingChunks: pending,
    rejectedRows,
    ...(geoRejectedRows.length ? { geoRejectedRows } : {}),
    deadLetterQueues: [...new Set(where.values())].sort(),
    ...(failure ? { failure } : {}),
    ...(run.event ? { event: { detailType: run.event.detailType, state: run.event.state } } : {}),
    ...((run.note ?? summary?.note) ? { note: run.note ?? summary?.note } : {}),
    dateRange: summary?.dateRange ?? null,
    ...(gates?.length ? { gates } : {}),
    ...(geoTrips.length ? { geoTrips } : {}),
    ...(run.decision ? { decision: run.decision } : {}),
    ...(costs ? { costs } : {}),
  };
}

/** The `etl runs` table. */
export function formatRunsTable(reports: RunReport[]): string {
  return formatTable(RUNS_COLUMNS, reports.flatMap(runRows));
}

/** The columns of `etl runs`; counts are right-aligned and grouped (`3,583,800`). */
const RUNS_COLUMNS: TableColumn[] = [
  { title: 'RUN ID' },
  { title: 'STATUS' },
  { title: 'STAGE' },
  { title: 'STARTED' },
  { title: 'CHUNKS' },
  { title: 'INSERTED', numeric: true },
  { title: 'UPDATED', numeric: true },
  { title: 'UNCHANGED', numeric: true },
  { title: 'REJECTED', numeric: true },
  { title: 'DURATION' },
  { title: 'DLQ' },
];

/** The `etl runs` cells of a run (its total), then, for a run with states or counties, one row per level. */
function runRows(r: RunReport): string[][] {
  const g = (value: number) => value.toLocaleString('en-US');
  const counts = (c: RunCounts) => [g(c.inserted), g(c.updated), g(c.unchanged), g(c.rejected)];
  const total = [
    r.runId,
    r.status,
    r.stage,
    r.startedAt,
    `${g(r.chunks.loaded)}/${g(r.chunks.expected)}`,
    ...counts(r.counts),
    formatDuration(r.durationMs),
    r.deadLetterQueues.join(',') || '-',
  ];
  const levels = levelCountsOf(r.levels).map(([level, c]) => [`  ${level}`, '', '', '', '', ...counts(c)]);
  return [total, ...levels];
}

/**
 * The `etl status` text: `tripsShown` states and counties at most per tripped gate and level
 * (`Infinity` for every one).
 */
export function formatRunReport(
  r: RunReport,
  environment: string,
  maxRejected = 50,
  tripsShown = DEFAULT_TRIPS_SHOWN,
): string {
  const lines = [`Run ${r.runId}: ${r.status} (stage: ${r.stage})`];
  lines.push(
    `  trigger    ${r.trigger}, started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}${r.durationMs !== undefined ? ` (${formatDuration(r.durationMs)})` : ''}`,
    `  records    ${countsText(r.counts)}`,
    ...formatLevelLines(r.levels),
    `  chunks     ${r.chunks.loaded}/${r.chunks.expected} loaded, ${r.chunks.pending} pending, ${r.chunks.skipped} month(s) unchanged and skipped`,
  );
  lines.push(...formatPartialReason(r.status, r.levels, r.rejections));
  if (r.dateRange) lines.push(`  dates      ${r.dateRange.from} .. ${r.dateRange.to}`);
  if (r.note) lines.push(`  note       ${printable(r.note)}`);
  if (r.failure)
    lines.push(`  failure    ${printable(r.failure.reason)}${r.failure.stage ? ` (stage ${r.failure.stage})` : ''}`);
  if (r.event) lines.push(`  event      ${r.event.detailType} ${r.event.state}`);
  if (r.costs) lines.push(`  costs      ${describeRunCosts(r.costs)}`);
  lines.push(...formatGates(r, environment, tripsShown));
  for (const chunk of r.pendingChunks) {
    const error = chunk.lastError
      ? `; last error (${chunk.lastError.stage}, ${chunk.lastError.at}${chunk.lastError.receiveCount ? `, receive ${chunk.lastError.receiveCount}` : ''}): ${printable(chunk.lastError.message)}`
      : '';
    lines.push(`  pending    ${chunk.month} awaiting ${chunk.stage}, ${chunk.location}${error}`);
  }
  // The nation's rows (by source), then the states' and counties' (by file), `maxRejected` at most.
  const rows = [
    ...r.rejectedRows.map((row) => ({ where: row.source, line: row.line, column: row.column, reason: row.reason })),
    ...(r.geoRejectedRows ?? []).map((row) => ({
      where: row.file,
      line: row.line,
      column: row.column,
      reason: row.reason,
    })),
  ];
  if (rows.length > 0) {
    lines.push('  rejected rows:');
    const shown = rows.slice(0, maxRejected);
    for (const row of shown) {
      lines.push(
        `    ${printable(row.where)} line ${row.line}${row.column ? ` ${printable(row.column)}` : ''}: ${printable(row.reason)}`,
      );
    }
    const more = r.counts.rejected - shown.length;
    if (more > 0) {
      // --json lists every row the ledger keeps: all the nation's, up to 50 per chunk of a states or counties file.
      lines.push(
        `    … and ${more} more (--json lists them${r.geoRejectedRows?.length ? ', up to 50 per chunk' : ''})`,
      );
    }
  }
  const env = environment === 'local' ? '' : ` --env ${environment}`;
  for (const name of r.deadLetterQueues) {
    lines.push(
      `  parked in  ${name}: look with pnpm etl dlq peek ${name}${env}, replay with pnpm etl dlq replay ${name} --run ${r.runId}${env}`,
    );
  }
  return lines.join('\n');
}

/** `  gate       cumulative-fall: states (us-states.csv): …`: one line per gate a run tripped. */
export function formatGateLines(gates: RunReport['gates']): string[] {
  return (gates ?? []).map((gate) => `  gate       ${gate.gate}: ${gate.message}`);
}

/**
 * The gates a run tripped, the states and counties that tripped them, the decision taken, and
 * (HELD) the two commands that decide.
 */
function formatGates(r: RunReport, environment: string, tripsShown: number): string[] {
  const lines = formatGateLines(r.gates);
  lines.push(...formatTrips(r.geoTrips ?? [], { shown: tripsShown, runId: r.runId, environment }));
  if (r.decision) {
    lines.push(
      `  decision   ${r.decision.action === 'approve' ? 'approved' : 'rejected'} ${r.decision.at}${r.decision.by ? ` by ${r.decision.by}` : ''}`,
    );
  }
  if (r.status === 'HELD') {
    const env = environment === 'local' ? '' : ` --env ${environment}`;
    lines.push(`  decide     pnpm etl approve ${r.runId}${env}  (load exactly this snapshot)`);
    lines.push(`             pnpm etl reject ${r.runId}${env}   (end it REJECTED, load nothing)`);
  }
  return lines;
}
