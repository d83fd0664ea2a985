/**
 * Small, pure text helpers for notifications: ASCII subjects, human durations, sizes and
 * counts. Single lines and Slack mrkdwn escaping are `@covid-etl/core`'s (`oneLine`,
 * `escapeMrkdwn`), shared with the slack-forwarder.
 */

/** Characters that Unicode normalization (NFKD) does not reduce to ASCII, with their ASCII spelling. */
const ASCII_SPELLING: Record<string, string> = {
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  ł: 'l',
  Ł: 'L',
  þ: 'th',
  Þ: 'Th',
  ı: 'i',
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2039': "'",
  '\u203a': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2022': '*',
  '\u00d7': 'x',
  '\u2192': '->',
  '\u2190': '<-',
  '\u20ac': 'EUR',
  '\u00a3': 'GBP',
};

/**
 * One line of plain printable ASCII: accents are dropped (`São` → `Sao`), common typographic
 * characters get their ASCII spelling, line breaks, tabs and other control characters become
 * one space, and anything else becomes `?`.
 */
export function toAsciiLine(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\p{ASCII}]/gu, (char) => ASCII_SPELLING[char] ?? char)
    .replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ')
    .replace(/[^ -~]/gu, '?')
    .trim();
}

/** A duration for people: `850 ms`, `5 s`, `2 min 5 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts: string[] = [];
  if (hours) parts.push(`${hours} h`);
  if (minutes) parts.push(`${minutes} min`);
  if (seconds || parts.length === 0) parts.push(`${seconds} s`);
  return parts.join(' ');
}

/** A byte count for people: `512 B`, `1.5 KiB`, `2.3 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

const numberFormat = new Intl.NumberFormat('en-US');

/** An integer with thousands separators: `12,345`. */
export function formatCount(value: number): string {
  return numberFormat.format(value);
}
