/** How much of a value a message quotes. */
export const QUOTE_LIMIT = 60;

/** A value in double quotes for a message, cut to a readable length. */
export function quote(value: string): string {
  return `"${truncate(value, QUOTE_LIMIT)}"`;
}

/**
 * `text` cut to at most `maxLength` characters, the `ending` included (`…` unless told, e.g.
 * `'...'` where only ASCII is allowed); trailing spaces before the ending are dropped.
 */
export function truncate(text: string, maxLength: number, { ending = '…' }: { ending?: string } = {}): string {
  if (text.length <= maxLength) return text;
  if (maxLength <= ending.length) return text.slice(0, Math.max(0, maxLength));
  return `${text.slice(0, maxLength - ending.length).trimEnd()}${ending}`;
}

/**
 * One line of text (Unicode kept) for a notification or a chat message: line breaks, tabs and
 * other control characters become one space, then the text is cut to `maxLength` when given.
 */
export function oneLine(text: string, maxLength = Number.POSITIVE_INFINITY): string {
  return truncate(text.replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ').trim(), maxLength);
}

/** Escapes the three characters Slack mrkdwn treats as control characters (`&`, `<`, `>`). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
