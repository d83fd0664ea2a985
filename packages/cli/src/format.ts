import {
  describeRejections,
  describeRunCosts,
  levelCountsOf,
  moreInStatus,
  type RunSummary,
  redactUrl,
} from '@covid-etl/contracts';
import type { DrainProgress } from '@covid-etl/local-stack';
import type { RunItem } from '@covid-etl/platform';

/** The status the CLI reports for a run (a finished run's summary status, else the ledger's). */
export function runStatus(run: RunItem): string {
  return run.summary?.status ?? run.status;
}

/** `523 ms`, `12.3 s`, `37 min 33 s` (whole seconds from a minute on, rounded before they are split). */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 100) / 10;
  if (seconds < 60) return `${seconds} s`;
  const whole = Math.round(ms / 1000);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** `1,234 inserted, 12 updated, 20,420 unchanged, 2 rejected[, 3 removed]`: digits grouped, as in the email. */
export function countsText(n: {
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  deleted?: number;
}) {
  const g = (value: number) => value.toLocaleString('en-US');
  return (
    `${g(n.inserted)} inserted, ${g(n.updated)} updated, ${g(n.unchanged)} unchanged, ${g(n.rejected)} rejected` +
    (n.deleted ? `, ${g(n.deleted)} removed` : '')
  );
}

/** `    state    1,234 inserted, 12 updated, 20,420 unchanged, 2 rejected`: one line per level (see `levelCountsOf`). */
export function formatLevelLines(levels: RunSummary['levels']): string[] {
  return levelCountsOf(levels).map(([level, n]) => `    ${level.padEnd(8)} ${countsText(n)}`);
}

/**
 * `  reason     2 rows rejected: 2 in us-states.csv (state); every other row loaded`: why a PARTIAL
 * run that read the states or counties is PARTIAL (none for the nation alone, whose rows are listed).
 */
export function formatPartialReason(
  status: string,
  levels: RunSummary['levels'],
  rejections: RunSummary['rejections'],
): string[] {
  if (status !== 'PARTIAL' || levelCountsOf(levels).length === 0 || !rejections?.length) return [];
  return [`  reason     ${describeRejections(rejections)}`];
}

/** A readable multi-line summary of one run, for the terminal. */
export function formatRunSummary(run: RunItem): string {
  const summary: RunSummary | undefined = run.summary;
  const lines = [`Run ${run.runId}: ${runStatus(run)}`];
  if (!summary) {
    lines.push(`  started ${run.startedAt}; not finished yet`);
    return lines.join('\n');
  }
  const c = summary.counts;
  lines.push(
    `  records    ${countsText(c)}`,
    ...formatLevelLines(summary.levels),
    `  dates      ${summary.dateRange ? `${summary.dateRange.from} .. ${summary.dateRange.to}` : '-'}`,
    `  chunks     ${summary.chunks.loaded}/${summary.chunks.expected} loaded, ${summary.chunks.skipped} month(s) unchanged and skipped`,
    `  duration   ${formatDuration(summary.durationMs)}`,
  );
  if (summary.costs) lines.push(`  costs      ${describeRunCosts(summary.costs)}`);
  for (const source of summary.sources) {
    lines.push(
      `  source     ${source.id} ${redactUrl(source.url)} (${source.etag ? `ETag ${source.etag}` : `sha256 ${source.sha256.slice(0, 12)}`})`,
    );
  }
  if (summary.note) lines.push(`  note       ${summary.note}`);
  if (summary.failure) lines.push(`  failure    ${summary.failure.reason}`);
  lines.push(...formatPartialReason(summary.status, summary.levels, summary.rejections));
  if (summary.rejectedRows.length > 0) {
    lines.push('  rejected rows:');
    for (const row of summary.rejectedRows) {
      lines.push(`    ${row.source} line ${row.line}${row.column ? ` ${row.column}` : ''}: ${row.reason}`);
    }
    if (c.rejected > summary.rejectedRows.length)
      lines.push(`    … ${moreInStatus(c.rejected - summary.rejectedRows.length, run.runId)}`);
  }
  const pending = summary.pendingChunks ?? [];
  for (const chunk of pending) {
    lines.push(`  pending    ${chunk.month} (${chunk.stage})${chunk.lastError ? `: ${chunk.lastError}` : ''}`);
  }
  const unlisted = summary.chunks.expected - summary.chunks.loaded - pending.length;
  if (pending.length > 0 && unlisted > 0) lines.push(`  pending    … ${moreInStatus(unlisted, run.runId)}`);
  return lines.join('\n');
}

/**
 * One line of local drain progress (`etl run`, `etl replay`, `etl approve`, `etl revert`):
 * "  37 min 12 s · 205 invocations · waiting: transformer 0 · loader 398 (DLQ 2) · notifier 0".
 */
export function describeDrain(progress: DrainProgress): string {
  const waiting = progress.queues
    .map((q) => {
      const dlq = q.deadLetterQueue?.messages ? ` (DLQ ${q.deadLetterQueue.messages})` : '';
      return `${q.queue.replace(/^covid-etl-local-/, '')} ${q.visible + q.inFlight}${dlq}`;
    })
    .join(' · ');
  return `  ${formatDuration(progress.elapsedMs)} · ${progress.invocations} invocations · waiting: ${waiting}`;
}

/** A column of {@link formatTable}: numbers are right-aligned under their title. */
export interface TableColumn {
  title: string;
  numeric?: boolean;
}

/**
 * A text table: each column as wide as its widest cell (a county backfill's counts run to
 * millions, an environment's queue names to any length), two spaces between columns, no
 * trailing spaces. A row may stop early (its other cells are empty).
 */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string {
  const all = [columns.map((column) => column.title), ...rows];
  const widths = columns.map((_, k) => Math.max(...all.map((row) => (row[k] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, k) => (columns[k]?.numeric ? cell.padStart(widths[k] ?? 0) : cell.padEnd(widths[k] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
