import { toStream } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { CsvError, type InfoRecord, type Options, parse } from 'csv-parse/sync';
import { type CsvRecord, CsvSyntaxError, scanCsv } from '../src/csv-scan.js';
import { collect } from './helpers.js';

interface Scanned {
  line: number;
  fields: string[];
}

const toScanned = (record: CsvRecord): Scanned => ({
  line: record.line,
  fields: Array.from({ length: record.count }, (_, index) => record.text(index)),
});

/** Scans with batches of one byte and the given chunk size, so records are cut everywhere. */
function scanAll(text: string, chunkSize: number): Promise<Scanned[]> {
  return collect(scanCsv(toStream(text, { chunkSize }), { maxRecordBytes: 10_000, minBatchBytes: 1 }, toScanned));
}

/** The oracle: csv-parse with the options the extractor used before the scanner, and the line each record starts on. */
function csvParseRecords(text: string): Scanned[] {
  const records: Scanned[] = [];
  let previousEnd = 0;
  let previousEmpty = 0;
  parse(text, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    on_record: ((record: string[], context: InfoRecord) => {
      records.push({ line: previousEnd + 1 + (context.empty_lines - previousEmpty), fields: record });
      previousEnd = context.lines;
      previousEmpty = context.empty_lines;
      return record;
    }) as unknown as Options['on_record'],
  });
  return records;
}

/** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fields for generated files. Quoted line breaks are LF only: csv-parse counts a quoted CRLF as
 * two lines (see the CRLF test below), where the scanner counts the one physical line.
 */
const VALID_FIELDS = [
  'US',
  ' US ',
  '"US"',
  '',
  '""',
  '"Korea, South"',
  '"say ""hi"""',
  '"two\nlines"',
  '"\n"',
  'Curaçao ✓',
  '2020-01-22',
  '12345',
];

function randomCsv(next: () => number, eol: string, fields: string[]): string {
  const pick = () => fields[Math.floor(next() * fields.length)] as string;
  const lines: string[] = [];
  const count = 1 + Math.floor(next() * 12);
  for (let index = 0; index < count; index++) {
    if (next() < 0.15) {
      lines.push('');
      continue;
    }
    const width = 1 + Math.floor(next() * 4);
    lines.push(Array.from({ length: width }, pick).join(','));
  }
  return (next() < 0.3 ? '\uFEFF' : '') + lines.join(eol) + (next() < 0.5 ? eol : '');
}

describe('scanCsv', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('gives the same records and start lines as csv-parse on generated %s files, cut at every byte', async (_, eol) => {
    for (let seed = 1; seed <= 150; seed++) {
      // Prepare
      const text = randomCsv(random(seed), eol, VALID_FIELDS);
      const expected = csvParseRecords(text);

      for (const chunkSize of [1, 2, 3, 7, 1024]) {
        // Act
        const scanned = await scanAll(text, chunkSize);

        // Assess
        expect({ seed, chunkSize, scanned }).toEqual({ seed, chunkSize, scanned: expected });
      }
    }
  });

  it('refuses what csv-parse refuses, with the same error code, on generated files with stray quotes', async () => {
    const fields = [...VALID_FIELDS, 'a"b', '"x"y', '"open'];
    let refused = 0;
    for (let seed = 1; seed <= 300; seed++) {
      // Prepare
      const text = randomCsv(random(seed), '\n', fields);
      let expected: string | undefined;
      try {
        csvParseRecords(text);
      } catch (error) {
        if (!(error instanceof CsvError)) throw error;
        expected = error.code;
      }

      // Act
      let code: string | undefined;
      try {
        await scanAll(text, 3);
      } catch (error) {
        if (!(error instanceof CsvSyntaxError)) throw error;
        code = error.code;
      }

      // Assess
      expect({ seed, text, code }).toEqual({ seed, text, code: expected });
      if (expected) refused++;
    }
    expect(refused).toBeGreaterThan(50);
  });

  it.each([
    ['an unclosed quote, at the line the record starts', 'a,b\n1,"x\n2\n3\n', 'CSV_QUOTE_NOT_CLOSED', 2, 1],
    ['a quote inside an unquoted field', 'a,b\n1,2\n1,x"y\n', 'INVALID_OPENING_QUOTE', 3, 1],
    ['characters after a closing quote', 'a,b\n"1"x,2\n', 'CSV_INVALID_CLOSING_QUOTE', 2, 0],
    ['a space after a closing quote', 'a,b\r\n"1" ,2\r\n', 'CSV_INVALID_CLOSING_QUOTE', 2, 0],
    ['a record over the limit', `a,b\n1,${'x'.repeat(200)}\n`, 'CSV_MAX_RECORD_SIZE', 2, 1],
    ['a quoted record over the limit, at its start', `a,b\n1,"${'x\n'.repeat(100)}`, 'CSV_MAX_RECORD_SIZE', 2, 1],
  ])('refuses %s', async (_, text, code, line, field) => {
    for (const chunkSize of [1, 5, 4096]) {
      // Act
      const outcome = collect(
        scanCsv(toStream(text, { chunkSize }), { maxRecordBytes: 100, minBatchBytes: 1 }, toScanned),
      );

      // Assess
      await expect(outcome).rejects.toMatchObject({ name: 'CsvSyntaxError', code, field, line });
    }
  });

  it('counts a quoted CRLF as one physical line (csv-parse counted two)', async () => {
    // Prepare
    const text = 'a,b\r\n1,"two\r\nlines"\r\n2,x\r\n';

    for (const chunkSize of [1, 4, 64]) {
      // Act
      const scanned = await scanAll(text, chunkSize);

      // Assess
      expect(scanned.map((record) => record.line)).toEqual([1, 2, 4]);
    }
  });

  it('takes a lone CR as a line break, and a CR at the end of a batch waits for the next byte', async () => {
    // Prepare
    const text = 'a,b\r1,2\r\r3,4\r\n5,6';

    for (const chunkSize of [1, 2, 3, 64]) {
      // Act
      const scanned = await scanAll(text, chunkSize);

      // Assess
      expect(scanned).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', '2'] },
        { line: 4, fields: ['3', '4'] },
        { line: 5, fields: ['5', '6'] },
      ]);
    }
  });

  it('compares trimmed fields as bytes, decoding only non-ASCII or escaped ones', async () => {
    // Prepare
    const text = 'US, US\t,"US","U""S",\u00a0US\u2003,USA,,"",  \n';
    const results: boolean[][] = [];

    // Act
    await collect(
      scanCsv(toStream(text), { maxRecordBytes: 1000 }, (record) => {
        results.push(Array.from({ length: record.count }, (_, index) => record.trimmedEquals(index, 'US')));
        results.push(Array.from({ length: record.count }, (_, index) => record.trimmedEquals(index, '')));
        return undefined;
      }),
    );

    // Assess
    expect(results).toEqual([
      [true, true, true, false, true, false, false, false, false],
      [false, false, false, false, false, false, true, true, true],
    ]);
  });
});
