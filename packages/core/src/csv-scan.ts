/**
 * A streaming RFC 4180 record scanner over bytes: the hot path of extraction.
 *
 * It tokenizes every record (quotes, doubled quotes, quoted line breaks, field counts) but
 * decodes nothing: a record exposes its fields as byte ranges, and the caller decodes only the
 * fields it keeps. The JHU file has ~115k rows of which 420 are kept, so not building strings
 * for the others is most of the speed (see packages/core/README.md).
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
/** Bytes gathered before scanning: a record is rescanned at most once when a batch cuts it. */
const MIN_BATCH_BYTES = 64 * 1024;

const decoder = new TextDecoder();

/** What is wrong with the bytes, in the terms of csv-parse's error codes (kept for continuity). */
export type CsvSyntaxCode =
  | 'CSV_QUOTE_NOT_CLOSED'
  | 'INVALID_OPENING_QUOTE'
  | 'CSV_INVALID_CLOSING_QUOTE'
  | 'CSV_MAX_RECORD_SIZE';

/** The input is not valid CSV. `line` is the 1-based physical line, `field` the 0-based field index. */
export class CsvSyntaxError extends Error {
  readonly code: CsvSyntaxCode;
  readonly line: number;
  readonly field: number;

  constructor(code: CsvSyntaxCode, line: number, field: number) {
    super(`${code} at line ${line}, field ${field + 1}`);
    this.name = 'CsvSyntaxError';
    this.code = code;
    this.line = line;
    this.field = field;
  }
}

/**
 * One record, valid until the callback returns (its buffer and offsets are reused).
 * Field `i` spans bytes `[start(i), end(i))` of `buffer`, quotes excluded.
 */
export class CsvRecord {
  buffer: Uint8Array = new Uint8Array(0);
  /** Number of fields. */
  count = 0;
  /** 1-based physical line the record starts on. */
  line = 0;
  starts: Int32Array<ArrayBuffer> = new Int32Array(64);
  ends: Int32Array<ArrayBuffer> = new Int32Array(64);
  /** 1 when the field was quoted and holds doubled quotes to unescape. */
  escaped = new Uint8Array(64);

  /** The field's text (quotes unescaped), untrimmed. */
  text(index: number): string {
    const text = decoder.decode(this.buffer.subarray(this.starts[index] ?? 0, this.ends[index] ?? 0));
    return this.escaped[index] === 1 ? text.replaceAll('""', '"') : text;
  }

  /** The field's text, trimmed like `String.prototype.trim`. */
  trimmed(index: number): string {
    return this.text(index).trim();
  }

  /**
   * Whether the trimmed field equals `ascii` (an ASCII string without quotes or whitespace at
   * its ends), without building a string in the common case. Fields holding non-ASCII bytes
   * or escaped quotes are decoded, so Unicode whitespace trims exactly as `trim()` does.
   */
  trimmedEquals(index: number, ascii: string): boolean {
    const buffer = this.buffer;
    let start = this.starts[index] ?? 0;
    let end = this.ends[index] ?? 0;
    while (start < end && isAsciiSpace(buffer[start] ?? 0)) start++;
    while (end > start && isAsciiSpace(buffer[end - 1] ?? 0)) end--;
    if (this.escaped[index] === 1) return this.trimmed(index) === ascii;
    for (let at = start; at < end; at++) {
      if ((buffer[at] ?? 0) >= 0x80) return this.trimmed(index) === ascii;
    }
    if (end - start !== ascii.length) return false;
    for (let at = 0; at < ascii.length; at++) {
      if (buffer[start + at] !== ascii.charCodeAt(at)) return false;
    }
    return true;
  }

  /** Whether the record is a line of blanks (one field, empty once trimmed). */
  isBlank(): boolean {
    return this.count === 1 && this.trimmedEquals(0, '');
  }

  push(start: number, end: number, escaped: boolean): void {
    if (this.count === this.starts.length) {
      const size = this.count * 2;
      this.starts = grow(this.starts, size);
      this.ends = grow(this.ends, size);
      const flags = new Uint8Array(size);
      flags.set(this.escaped);
      this.escaped = flags;
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.escaped[this.count] = escaped ? 1 : 0;
    this.count++;
  }
}

/** ASCII whitespace as `String.prototype.trim` sees it (tab, LF, VT, FF, CR, space). */
function isAsciiSpace(byte: number): boolean {
  return byte === SPACE || (byte >= TAB && byte <= CR);
}

function grow(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(size);
  bigger.set(array);
  return bigger;
}

export interface ScanOptions {
  /** Longest record accepted, in bytes (quotes and line break included). */
  maxRecordBytes: number;
  /** Bytes gathered before a scan (default 64 KiB); tests set 1 to cut records everywhere. */
  minBatchBytes?: number;
}

/**
 * Reads `input` to its end and calls `onRecord` for each non-empty record, in order. Records
 * end at LF, CRLF or a lone CR outside quotes (a line break inside quotes is data and counts
 * as a physical line); empty lines are skipped; a UTF-8 BOM at the start is dropped.
 * `onRecord` returns a value to yield, or `undefined`. The values are yielded in batches
 * between reads, so memory holds one batch of input and its kept values.
 *
 * Throws {@link CsvSyntaxError} for an unclosed quote or a record over `maxRecordBytes` (at
 * the line the record starts), a quote inside an unquoted field or characters after a
 * closing quote (at the line they are on). Errors thrown by `onRecord` or by the input pass through.
 */
export async function* scanCsv<T>(
  input: AsyncIterable<Uint8Array | string>,
  options: ScanOptions,
  onRecord: (record: CsvRecord) => T | undefined,
): AsyncGenerator<T> {
  const record = new CsvRecord();
  const state: ScanState = { line: 1, atStart: true };
  const kept: T[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let carry: Uint8Array = new Uint8Array(0);
  const minBatchBytes = options.minBatchBytes ?? MIN_BATCH_BYTES;

  const scan = (final: boolean): void => {
    const buffer = concat(carry, pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const consumed = scanBuffer(buffer, final, state, options, record, onRecord, kept);
    carry = buffer.subarray(consumed);
  };

  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes < minBatchBytes) continue;
    scan(false);
    yield* drain(kept);
  }
  scan(true);
  yield* drain(kept);
}

function* drain<T>(kept: T[]): Generator<T> {
  for (const value of kept) yield value;
  kept.length = 0;
}

function concat(carry: Uint8Array, pending: Uint8Array[], pendingBytes: number): Uint8Array {
  if (carry.length === 0 && pending.length === 1) return pending[0] as Uint8Array;
  const buffer = new Uint8Array(carry.length + pendingBytes);
  buffer.set(carry, 0);
  let at = carry.length;
  for (const part of pending) {
    buffer.set(part, at);
    at += part.length;
  }
  return buffer;
}

interface ScanState {
  /** The physical line the next unconsumed byte is on. */
  line: number;
  /** Nothing consumed yet (a BOM may come). */
  atStart: boolean;
}

/**
 * Scans the complete records of `buffer`; returns the offset of the first unconsumed byte
 * (the start of a record cut by the end of the buffer, or the buffer's length). With `final`,
 * the end of the buffer ends the last record.
 */
function scanBuffer<T>(
  buffer: Uint8Array,
  final: boolean,
  state: ScanState,
  options: ScanOptions,
  record: CsvRecord,
  onRecord: (record: CsvRecord) => T | undefined,
  kept: T[],
): number {
  const length = buffer.length;
  let pos = 0;
  if (state.atStart) {
    if (length < 3 && !final) return 0;
    state.atStart = false;
    if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) pos = 3;
  }
  record.buffer = buffer;
  let line = state.line;

  records: while (pos < length) {
    const recordStart = pos;
    const recordLine = line;
    record.count = 0;
    record.line = recordLine;
    // An empty line: skipped, counted.
    const first = buffer[pos];
    if (first === LF || first === CR) {
      if (first === CR && pos + 1 >= length && !final) break;
      pos += first === CR && buffer[pos + 1] === LF ? 2 : 1;
      line++;
      state.line = line;
      continue;
    }
    for (;;) {
      // One field starting at `pos`.
      if (buffer[pos] === QUOTE) {
        const contentStart = pos + 1;
        let at = contentStart;
        let escaped = false;
        let closed = -1;
        while (at < length) {
          const byte = buffer[at] as number;
          if (byte === QUOTE) {
            if (at + 1 < length && buffer[at + 1] === QUOTE) {
              escaped = true;
              at += 2;
              continue;
            }
            if (at + 1 >= length && !final) break; // a doubled quote may be cut
            closed = at;
            break;
          }
          if (byte === LF || (byte === CR && buffer[at + 1] !== LF)) line++;
          at++;
        }
        if (closed === -1) {
          if (!final) {
            if (at - recordStart > options.maxRecordBytes) {
              throw new CsvSyntaxError('CSV_MAX_RECORD_SIZE', recordLine, record.count);
            }
            line = recordLine;
            pos = recordStart;
            break records;
          }
          throw new CsvSyntaxError('CSV_QUOTE_NOT_CLOSED', recordLine, record.count);
        }
        record.push(contentStart, closed, escaped);
        pos = closed + 1;
        const next = buffer[pos];
        if (pos < length && next !== COMMA && next !== LF && next !== CR) {
          throw new CsvSyntaxError('CSV_INVALID_CLOSING_QUOTE', line, record.count - 1);
        }
      } else {
        const fieldStart = pos;
        let byte = 0;
        while (pos < length) {
          byte = buffer[pos] as number;
          if (byte > COMMA) {
            pos++; // letters, digits, '-', '.', '/': most bytes
            continue;
          }
          if (byte === COMMA || byte === LF || byte === CR) break;
          if (byte === QUOTE) throw new CsvSyntaxError('INVALID_OPENING_QUOTE', line, record.count);
          pos++;
        }
        record.push(fieldStart, pos, false);
      }
      if (pos - recordStart > options.maxRecordBytes) {
        throw new CsvSyntaxError('CSV_MAX_RECORD_SIZE', recordLine, record.count - 1);
      }
      if (pos >= length) {
        if (!final) {
          line = recordLine;
          pos = recordStart;
          break records;
        }
        break; // the last record, without a line break
      }
      const byte = buffer[pos];
      if (byte === COMMA) {
        pos++;
        if (pos >= length && !final) {
          line = recordLine;
          pos = recordStart;
          break records;
        }
        if (pos >= length) {
          record.push(pos, pos, false); // "a," at the very end: an empty last field
          break;
        }
        continue;
      }
      // A line break: CR needs the next byte to tell CRLF from a lone CR.
      if (byte === CR) {
        if (pos + 1 >= length && !final) {
          line = recordLine;
          pos = recordStart;
          break records;
        }
        pos += buffer[pos + 1] === LF ? 2 : 1;
      } else {
        pos++;
      }
      line++;
      break;
    }
    state.line = line;
    const value = onRecord(record);
    if (value !== undefined) kept.push(value);
  }
  state.line = line;
  return pos;
}
