import { type GeoRecord, MAX_GEO_NAME_CHARS } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  assertGeoPartSize,
  ChunkTooLargeError,
  changedDays,
  chunksCoveredBy,
  GEO_PART_RECORD_BYTES,
  GeoChunkPlanner,
  type GeoRowResult,
  MAX_CHUNK_BYTES,
  planParts,
  planRevertParts,
  type RevertGeoDay,
} from '../src/index.js';

function ok(record: GeoRecord): GeoRowResult {
  return { ok: true, record };
}

function plannerOf(
  records: GeoRecord[],
  level: 'state' | 'county' = 'county',
  nameOf?: (geo: string) => string,
): GeoChunkPlanner {
  const planner = new GeoChunkPlanner(level);
  const named = new Set<string>();
  for (const record of records) {
    // The extractor names a geography on its first valid row only.
    const name = nameOf && !named.has(record.geo) ? nameOf(record.geo) : undefined;
    named.add(record.geo);
    planner.add(name === undefined ? ok(record) : { ok: true, record, name });
  }
  return planner;
}

/** A state with `counties` county codes (odd, like real FIPS) plus `Unknown`, every day of a month, with large counts. */
function stateMonth(state: string, counties: number, month: string, days = 31): GeoRecord[] {
  const records: GeoRecord[] = [];
  let line = 1_000_000;
  for (let day = 1; day <= days; day++) {
    const date = `${month}-${String(day).padStart(2, '0')}`;
    const geos = Array.from({ length: counties }, (_, index) => `${state}${String(index * 2 + 1).padStart(3, '0')}`);
    for (const geo of [...geos, `${state}-unknown`]) {
      records.push({ geo, date, cases: 1_000_000 + day * 1_000 + records.length, deaths: 10_000 + day, line: line++ });
    }
  }
  return records;
}

describe('GeoChunkPlanner', () => {
  it('groups records by (level, state, month), with the special areas in their state', () => {
    // Prepare
    const planner = plannerOf([
      { geo: '48201', date: '2020-04-30', cases: 5, deaths: 1, line: 2 },
      { geo: '48-unknown', date: '2020-05-01', cases: 1, deaths: 0, line: 3 },
      { geo: '36-nyc', date: '2020-04-30', cases: 9, deaths: null, line: 4 },
    ]);

    // Act
    const chunks = planner.chunks();

    // Assess
    expect(chunks.map((chunk) => [chunk.key, chunk.rows, chunk.days.map((day) => day.date)])).toEqual([
      ['county/36/2020-04', 1, ['2020-04-30']],
      ['county/48/2020-04', 1, ['2020-04-30']],
      ['county/48/2020-05', 1, ['2020-05-01']],
    ]);
    expect(chunks[0]?.records()).toEqual([{ geo: '36-nyc', date: '2020-04-30', cases: 9, deaths: null, line: 4 }]);
    expect(() => planner.add(ok({ geo: '48', date: '2020-04-01', cases: 1, deaths: 0, line: 9 }))).toThrow(
      'record 48 is of level state; this planner groups county',
    );
  });

  it('hashes content, not file order or line numbers; a revised value changes its day and chunk only', () => {
    // Prepare
    const rows = stateMonth('48', 5, '2020-04', 3);
    const reordered = [...rows].reverse().map((record, index) => ({ ...record, line: index + 2 }));
    const revised = rows.map((record) =>
      record.geo === '48003' && record.date === '2020-04-02' ? { ...record, deaths: null } : record,
    );

    // Act
    const [base] = plannerOf(rows).chunks();
    const [same] = plannerOf(reordered).chunks();
    const [changed] = plannerOf(revised).chunks();

    // Assess
    expect(same?.hash).toBe(base?.hash);
    expect(same?.days).toEqual(base?.days);
    expect(changed?.hash).not.toBe(base?.hash);
    const loaded = new Map(base?.days.map((day) => [day.date, day.hash]));
    expect(changedDays(changed as never, loaded)).toEqual(['2020-04-02']);
    expect(changedDays(same as never, loaded)).toEqual([]);
    expect(changedDays(same as never, new Map())).toEqual(['2020-04-01', '2020-04-02', '2020-04-03']);
  });

  it('puts a rejection in its chunk (changing its hash) or, when no chunk is readable, with the unplaced ones', () => {
    // Prepare
    const rows = stateMonth('48', 2, '2020-04', 2);
    const planner = plannerOf(rows);
    const before = planner.chunks()[0]?.hash;
    const inChunk = {
      file: 'us-counties.csv',
      line: 40,
      column: 'cases',
      value: '-1',
      reason: 'cases "-1" is negative; expected a whole number >= 0',
      chunk: 'county/48/2020-04',
    };
    const nowhere = {
      file: 'us-counties.csv',
      line: 41,
      column: 'state',
      value: 'Tejas',
      reason: 'state "Tejas" is …',
    };

    const partsBefore = planParts(planner.chunks()[0] as never);

    // Act
    planner.add({ ok: false, rejected: inChunk });
    planner.add({ ok: false, rejected: nowhere });

    // Assess
    const [chunk] = planner.chunks();
    expect(chunk?.rejected).toEqual([inChunk]);
    // Its parts must not become the loaded baseline: its days are compared again next run.
    expect(partsBefore.map((part) => part.baseline)).toEqual([true]);
    expect(planParts(chunk as never).map((part) => part.baseline)).toEqual([false]);
    expect(chunk?.hash).not.toBe(before);
    expect(planner.unplaced).toEqual([nowhere]);
    expect(planner.rejected).toEqual([inChunk, nowhere]);
  });
});

describe('GeoChunkPlanner: compact columns', () => {
  it('keeps every count exactly, whether it fits in 32 bits or not, and an unreported death stays null', () => {
    // Arrange: a county whose counts pass 2^32 - 1 (and one not whole) after days that fit.
    const records: GeoRecord[] = [
      { geo: '48201', date: '2020-04-01', cases: 5, deaths: null, line: 2 },
      { geo: '48201', date: '2020-04-02', cases: 4_294_967_294, deaths: 7, line: 3 },
      { geo: '48201', date: '2020-04-03', cases: 4_294_967_295, deaths: null, line: 4 },
      { geo: '48201', date: '2020-04-04', cases: 9_007_199_254_740_991, deaths: 4_294_967_295, line: 5 },
      { geo: '48201', date: '2020-04-05', cases: 12.5, deaths: null, line: 6 },
      { geo: '48201', date: '2020-04-06', cases: 0, deaths: 0, line: 7 },
    ];

    // Act
    const [chunk] = plannerOf(records).chunks();

    // Assert
    expect(chunk?.records()).toEqual(records);
  });

  it('gives the same chunks for a file out of date order as for the same rows in order', () => {
    // Arrange: April, May, then April again (its bucket was cut to size when May began), 40 rows each.
    const month = (m: string, from: number) =>
      Array.from({ length: 40 }, (_, i) => ({
        geo: `48${String((i % 20) * 2 + 1).padStart(3, '0')}`,
        date: `2020-${m}-${String(Math.floor(i / 20) + from).padStart(2, '0')}`,
        cases: 1000 + i,
        deaths: i % 3 === 0 ? null : i,
        line: 0,
      }));
    const rows = [...month('04', 1), ...month('05', 1), ...month('04', 3)].map((r, i) => ({ ...r, line: i + 2 }));
    const sorted = [...rows].sort((a, b) => a.date.localeCompare(b.date) || a.line - b.line);

    // Act
    const outOfOrder = plannerOf(rows).chunks();
    const inOrder = plannerOf(sorted).chunks();

    // Assert
    expect(outOfOrder.map((c) => [c.key, c.hash, c.rows])).toEqual(inOrder.map((c) => [c.key, c.hash, c.rows]));
    expect(outOfOrder.map((c) => c.records())).toEqual(inOrder.map((c) => c.records()));
    expect(outOfOrder.map((c) => c.rows)).toEqual([80, 40]);
  });
});

describe('planParts', () => {
  it('cuts a Texas-sized month (254 counties + Unknown, 31 days) into whole-day parts under the message limit', () => {
    // Prepare
    const records = stateMonth('48', 254, '2020-12');
    const nameOf = (geo: string) => (geo.endsWith('-unknown') ? 'Unknown' : `Texas County Number ${geo}`);
    const [chunk] = plannerOf(records, 'county', nameOf).chunks();
    if (!chunk) throw new Error('no chunk');
    const whole = {
      key: chunk.key,
      chunk: chunk.key,
      days: chunk.days,
      baseline: true,
      records: chunk.records(),
      names: Object.fromEntries(chunk.names),
    };

    // Act
    const parts = planParts(chunk);
    const again = planParts(chunk);

    // Assess
    expect(() => assertGeoPartSize(chunk, whole)).toThrow(ChunkTooLargeError);
    expect(parts.length).toBeGreaterThan(1);
    const sizes = parts.map((part) => assertGeoPartSize(chunk, part));
    expect(Math.max(...sizes)).toBeLessThan(MAX_CHUNK_BYTES);
    expect(parts.flatMap((part) => part.records)).toEqual(chunk.records());
    expect(parts.flatMap((part) => part.days)).toEqual(chunk.days.map(({ date, hash }) => ({ date, hash })));
    expect(parts.map((part) => part.key)).toEqual(again.map((part) => part.key));
    // Each part names each of its geographies once, whatever its number of days.
    for (const part of parts) {
      const geos = [...new Set(part.records.map((record) => record.geo))].sort();
      expect(Object.keys(part.names).sort()).toEqual(geos);
      expect(part.names['48201']).toBe('Texas County Number 48201');
      expect(part.names['48-unknown']).toBe('Unknown');
    }
    expect(parts[0]?.key).toMatch(/^county\/48\/2020-12#01-\d\d$/);
    expect(parts.at(-1)?.key).toMatch(/^county\/48\/2020-12#\d\d-31$/);
  });

  it('keeps the worst possible state-month (999 county codes, 3 areas without one, 16-digit counts) under the limit', () => {
    // Prepare: Missouri is the state with the most areas without a code (Unknown, Kansas City, Joplin).
    const geos = [
      ...Array.from({ length: 999 }, (_, index) => `29${String(index + 1).padStart(3, '0')}`),
      '29-unknown',
      '29-kansas-city',
      '29-joplin',
    ];
    const records = Array.from({ length: 31 }, (_, day) => `2021-01-${String(day + 1).padStart(2, '0')}`).flatMap(
      (date, day) =>
        geos.map((geo, index) => ({
          geo,
          date,
          cases: Number.MAX_SAFE_INTEGER,
          deaths: Number.MAX_SAFE_INTEGER,
          line: 4_000_000_000 + day * 1_002 + index,
        })),
    );
    // Names of the longest length carried, and one longer (cut).
    const nameOf = (geo: string) => (geo === '29001' ? 'N'.repeat(200) : geo.padEnd(MAX_GEO_NAME_CHARS, 'n'));
    const [chunk] = plannerOf(records, 'county', nameOf).chunks();
    if (!chunk) throw new Error('no chunk');

    // Act
    const parts = planParts(chunk);

    // Assess
    expect(chunk.days[0]?.rows).toBe(1_002);
    expect(parts).toHaveLength(31);
    expect(Object.keys(parts[0]?.names ?? {})).toHaveLength(1_002);
    expect(parts[0]?.names['29001']).toBe('N'.repeat(MAX_GEO_NAME_CHARS));
    expect(Math.max(...parts.map((part) => assertGeoPartSize(chunk, part)))).toBeLessThan(MAX_CHUNK_BYTES);
  });

  it('sends only the days asked for', () => {
    // Prepare
    const [chunk] = plannerOf(stateMonth('48', 254, '2021-03', 17)).chunks();
    if (!chunk) throw new Error('no chunk');

    // Act
    const parts = planParts(chunk, new Set(['2021-03-16', '2021-03-17']));

    // Assess
    expect(parts.map((part) => part.key)).toEqual(['county/48/2021-03#16-17']);
    expect(new Set(parts[0]?.records.map((record) => record.date))).toEqual(new Set(['2021-03-16', '2021-03-17']));
    expect(planParts(chunk, new Set(['2021-04-01']))).toEqual([]);
  });
});

describe('chunksCoveredBy', () => {
  it('names the (level, state, month) chunks a 30-day file can change, with the dates it covers in each', () => {
    // Act
    const covered = chunksCoveredBy('county', '2021-02-16', '2021-03-17');

    // Assess
    expect(covered).toHaveLength(56 * 2);
    const texas = covered.filter((chunk) => chunk.state === '48');
    expect(texas.map((chunk) => [chunk.key, chunk.dates.length, chunk.dates[0], chunk.dates.at(-1)])).toEqual([
      ['county/48/2021-02', 13, '2021-02-16', '2021-02-28'],
      ['county/48/2021-03', 17, '2021-03-01', '2021-03-17'],
    ]);
    expect(chunksCoveredBy('state', '2020-12-31', '2021-01-01', ['48']).map((chunk) => chunk.key)).toEqual([
      'state/48/2020-12',
      'state/48/2021-01',
    ]);
    expect(() => chunksCoveredBy('county', '2021-03-17', '2021-02-16')).toThrow('expected from <= to');
  });
});

describe('planRevertParts', () => {
  const TEXAS_APRIL = { level: 'county' as const, state: '48', month: '2020-04' };
  /** Texas-sized: 254 counties + Unknown, every day of April; even days restored, odd days removed. */
  function texasRevert(): RevertGeoDay[] {
    const days: RevertGeoDay[] = [];
    for (let day = 1; day <= 30; day++) {
      const date = `2020-04-${String(day).padStart(2, '0')}`;
      for (let county = 1; county <= 507; county += 2) {
        const geo = `48${String(county).padStart(3, '0')}`;
        days.push({ geo, date, before: day % 2 === 0 ? { cases: 1_000_000 + county, deaths: null } : null });
      }
      days.push({ geo: '48-unknown', date, before: { cases: 12, deaths: 0 } });
    }
    return days;
  }

  it('cuts a Texas-sized revert into whole-day parts under the size limit, restored and removed days both counted', () => {
    // Prepare
    const days = texasRevert();

    // Act
    const parts = planRevertParts(TEXAS_APRIL, days, (date) => `${date}`.padEnd(64, '0'));

    // Assess: every day is in exactly one part, whole, in date order, and every part is under the limits.
    expect(parts.length).toBeGreaterThan(1);
    const entries = parts.flatMap((part) => [...part.records, ...part.removed]);
    expect(entries).toHaveLength(days.length);
    const dates = parts.flatMap((part) => [...new Set([...part.records, ...part.removed].map((entry) => entry.date))]);
    expect(dates).toEqual([...new Set(days.map((day) => day.date))].sort());
    for (const part of parts) {
      const bytes = Buffer.byteLength(JSON.stringify([part.records, part.removed]), 'utf8');
      expect(bytes).toBeLessThanOrEqual(GEO_PART_RECORD_BYTES + 10);
      expect(part.chunk).toBe('county/48/2020-04');
      expect(part.key.startsWith('county/48/2020-04#')).toBe(true);
    }
    // Only dates that keep a day carry a hash (every date here keeps Unknown's).
    expect(parts.flatMap((part) => part.days.map((day) => day.date))).toEqual(dates);
    const first = parts[0];
    expect(first?.records[0]).toEqual({ geo: '48-unknown', date: '2020-04-01', cases: 12, deaths: 0, line: 1 });
    expect(first?.removed[0]).toEqual({ geo: '48001', date: '2020-04-01' });
  });

  it('gives no hash to a date whose days are all removed', () => {
    // Act
    const [part] = planRevertParts(TEXAS_APRIL, [{ geo: '48201', date: '2020-04-03', before: null }], () =>
      'h'.repeat(64),
    );

    // Assess
    expect(part).toEqual({
      key: 'county/48/2020-04#03-03',
      chunk: 'county/48/2020-04',
      days: [],
      records: [],
      removed: [{ geo: '48201', date: '2020-04-03' }],
    });
  });

  it('refuses a day of another chunk', () => {
    expect(() => planRevertParts(TEXAS_APRIL, [{ geo: '06037', date: '2020-04-03', before: null }], () => 'h')).toThrow(
      'day 06037 2020-04-03 is not in chunk county/48/2020-04',
    );
  });
});
