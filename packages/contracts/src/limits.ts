/**
 * Bounds on what run outcomes carry. EventBridge entries and SNS messages are at most 256 KiB,
 * so every list that grows with the data (pending chunks, rejected rows) is cut to its first
 * items, and every text that comes from an error or a row is cut to a few hundred characters;
 * the exact numbers stay in the counts, and `pnpm etl status <runId>` shows everything.
 */

/** Most pending chunks carried in a summary or event (`chunks.expected - chunks.loaded` is exact). */
export const MAX_PENDING_IN_SUMMARY = 20;

/** Longest error, reason or value text carried per list item. */
export const MAX_ITEM_TEXT = 300;

/** Longest failure reason or note carried in a summary. */
export const MAX_REASON_TEXT = 2000;

/** EventBridge's limit on one PutEvents entry, and SNS's on one message (bytes). */
export const AWS_MESSAGE_LIMIT_BYTES = 262_144;

/**
 * `text` with printable characters only: every run of control, format, private-use,
 * unassigned or undecodable characters (NULs and raw bytes of a binary file) becomes one `?`,
 * whitespace becomes one space. Safe for a terminal, an email subject or body, and Slack.
 */
export function printable(text: string): string {
  return text
    .replace(/[\t\n\r\v\f\u0085\u2028\u2029 ]+/g, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\uFFFD]+/gu, '?');
}

/** `text`, printable (see `printable`), cut to at most `max` characters, ending with `...` when cut. */
export function capText(text: string, max: number): string {
  const clean = printable(text);
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(0, max - 3))}...`;
}

/** What follows a cut list: "and 980 more: `pnpm etl status <runId>`" (`count` may be formatted: "1,980"). */
export function moreInStatus(count: number | string, runId: string): string {
  return `and ${count} more: \`pnpm etl status ${runId}\``;
}
