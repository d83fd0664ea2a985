import {
  type DomainEventEnvelope,
  describeRejections,
  describeRunCosts,
  EventDetailType,
  levelCountsOf,
  MAX_MESSAGE_BYTES,
  MAX_PENDING_IN_SUMMARY,
  moreInStatus,
  NOTIFICATION_KIND,
  type RejectedRow,
  type RunCounts,
  type RunNotification,
  type RunSummary,
  redactUrl,
  redactUrlsIn,
  SOURCE_LABELS,
  type SourceIdentity,
} from '@covid-etl/contracts';
import { escapeMrkdwn, oneLine, truncate } from '@covid-etl/core';
import type { Notification } from '@covid-etl/platform';
import { formatRevision, formatRevisions } from './revisions.js';
import { formatBytes, formatCount, formatDuration, toAsciiLine } from './text.js';

export { NOTIFICATION_KIND } from '@covid-etl/contracts';

/** SNS allows a subject of fewer than 100 characters. */
export const MAX_SUBJECT_LENGTH = 99;

/**
 * Budget for the published message (the JSON of all bodies), in UTF-8 bytes: SNS's
 * `MAX_MESSAGE_BYTES` (262,144) less a margin for the subject and message attributes.
 */
export const MESSAGE_BODIES_BUDGET_BYTES = MAX_MESSAGE_BYTES - 12_144;

/** Rejected rows shown in the short (Slack / Chatbot) text. */
const REJECTED_IN_SHORT_TEXT = 3;
/** Pending chunks named in the short text. */
const PENDING_IN_SHORT_TEXT = 5;

/** How the run ended, as the notification tells it. */
export type OutcomeStatus = 'SUCCEEDED' | 'PARTIAL' | 'FAILED' | 'INCOMPLETE' | 'ABANDONED' | 'HELD';

/** What the notifier tells people about: one outcome event of one run. */
export interface RunOutcome {
  detailType: EventDetailType;
  summary: RunSummary;
  /** Why the run failed (from `EtlRunFailed`). */
  reason?: string;
}

/** The `lambda` body: what the slack-forwarder receives from the topic (`RunNotification`). */
export type NotificationLambdaBody = RunNotification & { status: OutcomeStatus };

/** The run outcome carried by a domain event envelope. */
export function outcomeFromEnvelope(envelope: DomainEventEnvelope): RunOutcome {
  if (envelope['detail-type'] === EventDetailType.RunFailed) {
    return { detailType: envelope['detail-type'], summary: envelope.detail.summary, reason: envelope.detail.reason };
  }
  return { detailType: envelope['detail-type'], summary: envelope.detail.summary };
}

/**
 * The status to report. A completion is SUCCEEDED or PARTIAL; a failure event is INCOMPLETE
 * when chunks sit in a DLQ and FAILED otherwise (including a stalled run still marked RUNNING).
 */
export function outcomeStatus({ detailType, summary }: RunOutcome): OutcomeStatus {
  if (detailType === EventDetailType.RunCompleted) return summary.status === 'PARTIAL' ? 'PARTIAL' : 'SUCCEEDED';
  if (summary.status === 'INCOMPLETE' || summary.status === 'ABANDONED' || summary.status === 'HELD') {
    return summary.status;
  }
  return 'FAILED';
}

/** Why a run failed, for people: the event's reason, else the summary's failure, else a generic one. */
export function failureReason(outcome: RunOutcome): string {
  const reason = outcome.reason ?? outcome.summary.failure?.reason;
  if (reason) return redactUrlsIn(reason);
  return outcomeStatus(outcome) === 'INCOMPLETE'
    ? 'chunks are parked in a dead-letter queue'
    : 'the run did not finish';
}

/**
 * Builds the SNS notification of a run outcome (pure): an ASCII subject under 100 characters
 * and one body per protocol: `email` (plain text), `lambda` (JSON for the slack-forwarder) and
 * `default` (AWS Chatbot custom-notification JSON). The whole message stays under
 * `maxMessageBytes`: the list of rejected rows in the email is shortened first.
 */
export function formatNotification(
  outcome: RunOutcome,
  { maxMessageBytes = MESSAGE_BODIES_BUDGET_BYTES }: { maxMessageBytes?: number } = {},
): Notification {
  const subject = formatSubject(outcome);
  const text = formatShortText(outcome);
  const lambda: NotificationLambdaBody = {
    kind: NOTIFICATION_KIND,
    subject,
    status: outcomeStatus(outcome),
    runId: outcome.summary.runId,
    environment: outcome.summary.environment,
    text,
  };
  const bodies = {
    default: JSON.stringify({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown', title: subject, description: text },
    }),
    email: '',
    lambda: JSON.stringify(lambda),
  };
  const size = () => Buffer.byteLength(JSON.stringify(bodies), 'utf8');

  let listed = outcome.summary.rejectedRows.length;
  bodies.email = formatEmail(outcome, { maxRejectedRows: listed });
  while (size() > maxMessageBytes && listed > 0) {
    listed = Math.floor(listed / 2);
    bodies.email = formatEmail(outcome, { maxRejectedRows: listed });
  }
  if (size() > maxMessageBytes) {
    // Still too large (only with a tiny budget): cut the email text; each pass drops at least the marker's length.
    const full = bodies.email;
    const marker = '\n[message shortened to fit the SNS size limit]\n';
    let keep = full.length;
    while (keep > 0 && size() > maxMessageBytes) {
      keep = Math.max(0, keep - (size() - maxMessageBytes) - marker.length);
      bodies.email = `${full.slice(0, keep)}${marker}`;
    }
  }
  return { subject, bodies };
}

/**
 * The subject: `[covid-etl dev] Run 2026-11-25: 1 new, 3 updated`, `... : no changes`,
 * `... PARTIAL: 2 new, 5 rows rejected`, `... FAILED: <reason>`, `... INCOMPLETE: <reason>`.
 * Plain printable ASCII, one line, at most 99 characters (cut with `...`).
 */
export function formatSubject(outcome: RunOutcome): string {
  const { summary } = outcome;
  const status = outcomeStatus(outcome);
  const prefix = `[covid-etl ${summary.environment}] Run ${runDate(summary)}`;
  const { inserted, updated, rejected } = summary.counts;
  let subject: string;
  switch (status) {
    case 'SUCCEEDED':
      subject =
        inserted + updated === 0
          ? `${prefix}: no changes`
          : `${prefix}: ${formatCount(inserted)} new, ${formatCount(updated)} updated`;
      break;
    case 'PARTIAL': {
      const parts: string[] = [];
      if (inserted) parts.push(`${formatCount(inserted)} new`);
      if (updated) parts.push(`${formatCount(updated)} updated`);
      parts.push(`${formatCount(rejected)} ${rejected === 1 ? 'row' : 'rows'} rejected`);
      subject = `${prefix} PARTIAL: ${parts.join(', ')}`;
      break;
    }
    default:
      subject = `${prefix} ${status}: ${failureReason(outcome)}`;
  }
  return truncate(toAsciiLine(subject), MAX_SUBJECT_LENGTH, { ending: '...' });
}

/** The plain-text email body. Never a stack trace or an object dump. */
export function formatEmail(outcome: RunOutcome, { maxRejectedRows }: { maxRejectedRows: number }): string {
  const { summary } = outcome;
  const status = outcomeStatus(outcome);
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(14)}${value}`);

  lines.push(`covid-etl run ${summary.runId}: ${status}`, '');
  field('Status', `${status} (${statusMeaning(status, summary)})`);
  field('Run id', summary.runId);
  field('Environment', summary.environment);
  field('Trigger', summary.trigger);
  field('Started', summary.startedAt);
  if (summary.finishedAt) field('Finished', summary.finishedAt);
  const durationMs = runDurationMs(summary);
  field('Duration', durationMs === undefined ? 'unknown' : formatDuration(durationMs));
  if (status === 'FAILED' || status === 'INCOMPLETE' || status === 'ABANDONED' || status === 'HELD') {
    const stage = summary.failure?.stage ? ` (stage: ${oneLine(summary.failure.stage, 60)})` : '';
    field('Reason', `${oneLine(failureReason(outcome), 1000)}${stage}`);
  }
  const partialReason = partialReasonOf(outcome);
  if (partialReason) field('Reason', oneLine(partialReason, 1000));

  const { rejected } = summary.counts;
  const levels = levelCountsOf(summary.levels);
  if (levels.length > 0) {
    // One line per geography level, then the total (a run of the nation alone keeps the list below).
    const cell = (value: number) => formatCount(value).padStart(11);
    const row = (label: string, c: RunCounts) =>
      `  ${label.padEnd(8)}${cell(c.inserted)}${cell(c.updated)}${cell(c.unchanged)}${cell(c.rejected)}${c.deleted ? cell(c.deleted) : ''}`;
    const removed = summary.counts.deleted ? '    removed' : '';
    lines.push(
      '',
      `Counts    ${['inserted', 'updated', 'unchanged', 'rejected'].map((h) => h.padStart(11)).join('')}${removed}`,
    );
    for (const [level, counts] of levels) lines.push(row(level, counts));
    lines.push(row('total', summary.counts));
  } else {
    const { inserted, updated, unchanged } = summary.counts;
    lines.push('', 'Counts');
    lines.push(`  inserted:   ${formatCount(inserted)}`);
    lines.push(`  updated:    ${formatCount(updated)}`);
    lines.push(`  unchanged:  ${formatCount(unchanged)}`);
    lines.push(`  rejected:   ${formatCount(rejected)}`);
    if (summary.counts.deleted) lines.push(`  removed:    ${formatCount(summary.counts.deleted)}`);
  }
  if (summary.revisions) {
    lines.push('', `Revised:      ${formatRevisions({ ...summary.revisions, largest: [] })}`);
    for (const revision of summary.revisions.largest) lines.push(`  - ${formatRevision(revision)}`);
    lines.push(`  (all of them: pnpm etl diff ${summary.runId})`);
  }
  lines.push(
    '',
    `Date range:   ${summary.dateRange ? `${summary.dateRange.from} to ${summary.dateRange.to}` : 'none (no rows looked at)'}`,
  );

  lines.push('', 'Sources');
  if (summary.sources.length === 0) lines.push('  none recorded');
  for (const source of summary.sources) lines.push(...formatSource(source));

  const { expected, loaded, skipped } = summary.chunks;
  lines.push(
    '',
    `Chunks:       ${formatCount(expected)} expected, ${formatCount(loaded)} loaded, ${formatCount(skipped)} skipped (month unchanged since its last successful load)`,
  );

  const pending = summary.pendingChunks ?? [];
  if (pending.length > 0) {
    const total = pendingCount(summary);
    const shown = pending.slice(0, MAX_PENDING_IN_SUMMARY);
    lines.push('', `Pending chunks (${formatCount(total)})`);
    for (const chunk of shown) {
      const error = chunk.lastError ? `: last error: ${oneLine(chunk.lastError, 300)}` : '';
      lines.push(`  - ${chunk.month}, waiting for ${chunk.stage}${error}`);
    }
    if (total > shown.length) lines.push(`  ... ${moreInStatus(formatCount(total - shown.length), summary.runId)}`);
  }

  if (rejected > 0 || summary.rejectedRows.length > 0) {
    const shown = summary.rejectedRows.slice(0, Math.max(0, maxRejectedRows));
    lines.push('', `Rejected rows (${formatCount(Math.max(rejected, summary.rejectedRows.length))})`);
    for (const row of shown) lines.push(`  - ${formatRejectedRow(row)}`);
    const more = Math.max(rejected, summary.rejectedRows.length) - shown.length;
    // None listed (the states' and counties' rows, kept in the ledger, or a list cut to fit): say where they are.
    if (more > 0 && shown.length === 0) lines.push(`  all of them: \`pnpm etl status ${summary.runId}\``);
    else if (more > 0) lines.push(`  ... ${moreInStatus(formatCount(more), summary.runId)}`);
  }

  const gates = summary.gates ?? [];
  if (gates.length > 0) {
    lines.push('', `Data-quality gates tripped (${gates.length})`);
    for (const gate of gates) lines.push(`  - ${gate.gate}: ${oneLine(gate.message, 1000)}`);
    if (status === 'HELD') {
      lines.push(
        '',
        'Nothing was loaded. To load exactly this snapshot anyway:',
        `  pnpm etl approve ${summary.runId}${summary.environment === 'local' ? '' : ` --env ${summary.environment}`}`,
        'To end the run without loading it:',
        `  pnpm etl reject ${summary.runId}${summary.environment === 'local' ? '' : ` --env ${summary.environment}`}`,
        'Runbook: docs/runbooks/held-run.md',
      );
    }
  }

  if (summary.note) lines.push('', `Note: ${oneLine(summary.note, 1000)}`);

  lines.push(
    '',
    '--',
    `Details: pnpm etl status ${summary.runId}`,
    ...(summary.costs ? [`Cost drivers: ${describeRunCosts(summary.costs)}`] : []),
    `Sent by the covid-etl notifier (${summary.environment}).`,
  );
  return `${lines.join('\n')}\n`;
}

/** The short Slack mrkdwn summary (also the Chatbot description). */
export function formatShortText(outcome: RunOutcome): string {
  const { summary } = outcome;
  const status = outcomeStatus(outcome);
  const { inserted, updated, unchanged, rejected } = summary.counts;
  const levels = levelCountsOf(summary.levels);
  const describe = (c: RunCounts) =>
    `${formatCount(c.inserted)} new, ${formatCount(c.updated)} updated, ${formatCount(c.unchanged)} unchanged, ${formatCount(c.rejected)} rejected`;
  const lines = [
    `*${status}*: run \`${summary.runId}\` (${escapeMrkdwn(oneLine(summary.environment, 40))}, ${summary.trigger})`,
    `${levels.length > 0 ? 'Total: ' : ''}${describe({ inserted, updated, unchanged, rejected })}`,
    ...levels.map(([level, counts]) => `• ${level}: ${describe(counts)}`),
  ];
  const durationMs = runDurationMs(summary);
  const range = summary.dateRange ? `Dates ${summary.dateRange.from} to ${summary.dateRange.to}` : 'No dates';
  lines.push(durationMs === undefined ? range : `${range}, took ${formatDuration(durationMs)}`);
  if (summary.revisions) lines.push(escapeMrkdwn(formatRevisions(summary.revisions)));
  if (status === 'FAILED' || status === 'INCOMPLETE' || status === 'ABANDONED') {
    lines.push(`Reason: ${escapeMrkdwn(oneLine(failureReason(outcome), 300))}`);
  }
  const partialReason = partialReasonOf(outcome);
  if (partialReason) lines.push(`Reason: ${escapeMrkdwn(oneLine(partialReason, 300))}`);
  for (const gate of summary.gates ?? [])
    lines.push(`• Gate ${gate.gate}: ${escapeMrkdwn(oneLine(gate.message, 300))}`);
  if (status === 'HELD') {
    lines.push(`Decide: \`pnpm etl approve ${summary.runId}\` or \`pnpm etl reject ${summary.runId}\``);
  }
  const pending = summary.pendingChunks ?? [];
  if (pending.length > 0) {
    const shown = pending.slice(0, PENDING_IN_SHORT_TEXT);
    const more = pendingCount(summary) - shown.length;
    const listed = shown.map((chunk) => `${chunk.month} (${chunk.stage})`).join(', ');
    lines.push(
      `Pending chunks: ${listed}${more > 0 ? `, ${escapeMrkdwn(moreInStatus(formatCount(more), summary.runId))}` : ''}`,
    );
  }
  if (summary.rejectedRows.length > 0) {
    const shown = summary.rejectedRows.slice(0, REJECTED_IN_SHORT_TEXT);
    lines.push('Rejected rows:');
    for (const row of shown) lines.push(`• ${escapeMrkdwn(formatRejectedRow(row, { short: true }))}`);
    const more = Math.max(rejected, summary.rejectedRows.length) - shown.length;
    if (more > 0) lines.push(`… and ${formatCount(more)} more`);
  }
  if (summary.note) lines.push(`_${escapeMrkdwn(oneLine(summary.note, 300))}_`);
  if (summary.costs) lines.push(`_Cost drivers: ${escapeMrkdwn(describeRunCosts(summary.costs))}_`);
  lines.push(`Details: \`pnpm etl status ${summary.runId}\``);
  return lines.join('\n');
}

const STATUS_MEANING: Record<OutcomeStatus, string> = {
  SUCCEEDED: 'every chunk loaded, no row rejected',
  PARTIAL: 'every chunk loaded, some rows rejected: see below',
  FAILED: 'the run failed; the data table holds what was loaded before',
  INCOMPLETE: 'chunks are parked in a dead-letter queue; replay them to finish the run',
  ABANDONED: 'an operator closed the run; chunks still in flight are dropped',
  HELD: 'the snapshot tripped a data-quality gate; nothing was loaded until someone approves or rejects it',
};

/**
 * Why a PARTIAL run that read the states or counties is PARTIAL: which levels and files had
 * rejected rows, and how many. Undefined otherwise (a run of the nation alone lists its rows).
 */
function partialReasonOf(outcome: RunOutcome): string | undefined {
  const { summary } = outcome;
  if (outcomeStatus(outcome) !== 'PARTIAL' || levelCountsOf(summary.levels).length === 0) return undefined;
  return describeRejections(summary.rejections ?? []) || undefined;
}

/** How many chunks did not finish: exact from the counts, even when the list was cut. */
function pendingCount(summary: RunSummary): number {
  const { expected, loaded } = summary.chunks;
  return Math.max(summary.pendingChunks?.length ?? 0, expected - loaded);
}

/** What a status means for this run: an INCOMPLETE run whose fetcher stopped has nothing to replay. */
function statusMeaning(status: OutcomeStatus, summary: RunSummary): string {
  if (status === 'INCOMPLETE' && summary.failure?.stage === 'fetch') {
    return 'the fetcher stopped before sending the chunks; nothing is parked to replay';
  }
  return STATUS_MEANING[status];
}

/** `nyt line 12, column "deaths", value "-3": deaths must not be negative` */
function formatRejectedRow(row: RejectedRow, { short = false }: { short?: boolean } = {}): string {
  const where = [`${row.source} line ${row.line}`];
  if (row.column) where.push(`column "${oneLine(row.column, 40)}"`);
  if (row.value !== undefined && !short) where.push(`value "${oneLine(row.value, 80)}"`);
  return `${where.join(', ')}: ${oneLine(row.reason, short ? 120 : 300)}`;
}

function formatSource(source: SourceIdentity): string[] {
  const identity = [
    source.notModified ? 'not modified (HTTP 304)' : undefined,
    source.etag ? `ETag ${oneLine(source.etag, 80)}` : undefined,
    `sha256 ${source.sha256.slice(0, 12)}`,
    formatBytes(source.bytes),
  ].filter((part): part is string => part !== undefined);
  return [
    `  - ${SOURCE_LABELS[source.id]} (${source.id})`,
    `    ${oneLine(redactUrl(source.url), 500)}`,
    `    ${identity.join(', ')}`,
  ];
}

/** The run's start date (UTC), `YYYY-MM-DD`. */
function runDate(summary: RunSummary): string {
  const started = new Date(summary.startedAt);
  return Number.isNaN(started.getTime()) ? summary.startedAt.slice(0, 10) : started.toISOString().slice(0, 10);
}

function runDurationMs(summary: RunSummary): number | undefined {
  if (summary.durationMs !== undefined) return summary.durationMs;
  if (!summary.finishedAt) return undefined;
  const ms = Date.parse(summary.finishedAt) - Date.parse(summary.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
