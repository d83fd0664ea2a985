import { DEFAULT_QUALITY_GATES, type GateTrip } from '@covid-etl/contracts';
import { changedDays, extractGeoRows, GeoChunkPlanner } from '@covid-etl/core';
import { dateRange } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { GeoGateCollector, type GeoGateTrip, summarizeGeoTrips } from '../src/use-cases/geo-gates.js';
import { heldReason } from '../src/use-cases/start-run.js';

type Level = 'state' | 'county';
interface Row {
  date: string;
  geo: string;
  name: string;
  state: string;
  cases: number;
  deaths: number;
}

async function planned(rows: readonly Row[], level: Level) {
  const header = level === 'state' ? 'date,state,fips,cases,deaths' : 'date,county,state,fips,cases,deaths';
  const lines = rows.map((r) =>
    level === 'state'
      ? `${r.date},${r.name},${r.geo},${r.cases},${r.deaths}`
      : `${r.date},${r.name},${r.state},${r.geo.includes('-') ? '' : r.geo},${r.cases},${r.deaths}`,
  );
  async function* csv() {
    yield `${header}\n${lines.join('\n')}\n`;
  }
  const planner = new GeoChunkPlanner(level);
  await planner.addAll(extractGeoRows(csv(), { kind: level === 'state' ? 'states' : 'counties', file: 'f.csv' }));
  return planner;
}

/**
 * Runs the geo gates on `next` as the fetcher does after `loaded` was loaded: stored day hashes
 * from `loaded`, changed days by hash, the reader answering with `loaded`'s values.
 */
async function gates(
  loaded: readonly Row[],
  next: readonly Row[],
  {
    level = 'state' as Level,
    rolling = false,
    thresholds = DEFAULT_QUALITY_GATES,
    /** A ledger from before the geographies of each day were recorded. */
    noDayGeos = false,
  } = {},
) {
  const before = loaded.length ? (await planned(loaded, level)).chunks() : [];
  const stored = new Map(before.map((chunk) => [chunk.key, new Map(chunk.days.map((d) => [d.date, d.hash]))]));
  const values = new Map(before.flatMap((chunk) => chunk.records().map((r) => [`${r.geo}|${r.date}`, r] as const)));
  const planner = await planned(next, level);
  const chunks = planner.chunks();
  const dates = next.map((r) => r.date).sort();
  const collector = new GeoGateCollector({
    level,
    thresholds,
    rolling,
    from: dates[0] as string,
    to: dates.at(-1) as string,
    names: planner.names,
    loadedStates: new Set(before.map((chunk) => chunk.state)),
  });
  for (const chunk of chunks) {
    const hashes = stored.get(chunk.key);
    collector.addChunk(chunk, hashes, new Set(changedDays(chunk, hashes ?? new Map())));
  }
  const fileKeys = new Set(chunks.map((chunk) => chunk.key));
  for (const [key, hashes] of stored)
    if (!fileKeys.has(key)) collector.addAbsentChunk(key.split('/')[1] as string, hashes);
  const dayGeos = new Map(
    before.map((chunk) => {
      const days = new Map<string, string[]>();
      for (const r of chunk.records()) days.set(r.date, [...(days.get(r.date) ?? []), r.geo]);
      return [chunk.key, days] as const;
    }),
  );
  const reads: string[] = [];
  const geoReads: string[] = [];
  const trips = await collector.finish(
    async (keys) => {
      reads.push(...keys.map((k) => `${k.geo}|${k.date}`));
      return new Map(keys.flatMap((k) => values.get(`${k.geo}|${k.date}`) ?? []).map((r) => [`${r.geo}|${r.date}`, r]));
    },
    async (keys) => {
      geoReads.push(...keys);
      if (noDayGeos) return new Map();
      return new Map(keys.flatMap((key) => (dayGeos.has(key) ? [[key, dayGeos.get(key) ?? new Map()] as const] : [])));
    },
  );
  return { trips, reads, geoReads };
}

/** `count` days of a state from 2021-02-01, rising; `change` edits a day. */
function state(
  geo: string,
  name: string,
  count: number,
  change: (row: Row, i: number) => Partial<Row> = () => ({}),
  first = '2021-02-01',
): Row[] {
  return dateRange(first, count).map((date, i) => {
    const row = { date, geo, name, state: name, cases: 100_000 + 1000 * i, deaths: 1000 + 10 * i };
    return { ...row, ...change(row, i) };
  });
}

const texas = (count: number, change?: (row: Row, i: number) => Partial<Row>, first?: string) =>
  state('48', 'Texas', count, change, first);
const ohio = (count: number, change?: (row: Row, i: number) => Partial<Row>) => state('39', 'Ohio', count, change);

describe('the data-quality gates of the states and counties', () => {
  it('passes a file that adds a day to every state, and reads no loaded value for a new day', async () => {
    // Prepare / Act
    const { trips, reads } = await gates([...texas(30), ...ohio(30)], [...texas(31), ...ohio(31)]);

    // Assess
    expect(trips).toEqual([]);
    expect(reads).toEqual([]);
  });

  it('reads nothing at all when the file is unchanged', async () => {
    // Prepare / Act
    const { trips, reads } = await gates(texas(31), texas(31));

    // Assess
    expect(trips).toEqual([]);
    expect(reads).toEqual([]);
  });

  it('names a state whose new day falls below its loaded last day, with the figures', async () => {
    // Prepare: Texas's new day 2021-03-03 falls by 50,000 cases; Ohio's rises.
    const next = [...texas(31, (_r, i) => (i === 30 ? { cases: 80_000 } : {})), ...ohio(31)];

    // Act
    const { trips } = await gates([...texas(30), ...ohio(30)], next);

    // Assess
    expect(trips).toEqual([
      {
        gate: 'cumulative-fall',
        level: 'state',
        geo: '48',
        message: 'Texas (48): cases 129,000 on 2021-03-02 → 80,000 on 2021-03-03',
      },
    ]);
  });

  it('does not flag a fall already loaded again, nor one in the first load of a state', async () => {
    // Prepare: a fall on day 10 is loaded (approved); a new file adds days; a first load of Ohio has a fall.
    const fallen = texas(30, (r, i) => (i >= 10 ? { cases: r.cases - 50_000 } : {}));
    const more = texas(31, (r, i) => (i >= 10 ? { cases: r.cases - 50_000 } : {}));
    const ohioFirst = ohio(20, (r, i) => (i >= 5 ? { cases: r.cases - 50_000 } : {}));

    // Act
    const { trips } = await gates(fallen, [...more, ...ohioFirst]);

    // Assess
    expect(trips).toEqual([]);
  });

  it('names a fall between two new days of a state that has loaded days (a file months ahead of the load)', async () => {
    // Prepare: 10 days loaded; the file adds 20 more, falling by 50,000 on its 25th day.
    const next = texas(30, (r, i) => (i >= 24 ? { cases: r.cases - 50_000 } : {}));

    // Act
    const { trips } = await gates(texas(10), next);

    // Assess
    expect(trips.map((t) => t.message)).toEqual(['Texas (48): cases 123,000 on 2021-02-24 → 74,000 on 2021-02-25']);
  });

  it('names a revised-down loaded value, reading only the revised days', async () => {
    // Prepare: the file revises Texas's 2021-02-10 down by 20,000 and adds a day.
    const next = texas(31, (r, i) => (i === 9 ? { cases: r.cases - 20_000, deaths: r.deaths } : {}));

    // Act
    const { trips, reads } = await gates(texas(30), next);

    // Assess
    expect(reads).toEqual(['48|2021-02-10']);
    expect(trips.map((t) => [t.gate, t.message])).toEqual([
      ['cumulative-fall', 'Texas (48): cases 108,000 on 2021-02-09 → 89,000 on 2021-02-10'],
      ['revised-down', 'Texas (48): cases on 2021-02-10 109,000 → 89,000'],
    ]);
  });

  it('names a state whose file revises most of its loaded dates, but not on the rolling county file', async () => {
    // Prepare: every loaded day of Texas gets 1 more case (rising, no fall).
    const revised = texas(31, (r) => ({ cases: r.cases + 1 }));
    const county = (rows: Row[]) => rows.map((r) => ({ ...r, geo: '48201', name: 'Harris', state: 'Texas' }));

    // Act
    const full = await gates(texas(30), revised);
    const rolling = await gates(county(texas(30)), county(revised), { level: 'county', rolling: true });

    // Assess
    expect(full.trips).toEqual([
      {
        gate: 'revised-share',
        level: 'state',
        geo: '48',
        message: 'Texas (48): revises 30 of 30 loaded dates (100.0%)',
      },
    ]);
    expect(rolling.trips).toEqual([]);
  });

  it('names loaded dates missing inside the file and a file ending early, not the dates before a rolling window', async () => {
    // Prepare: 40 days loaded; the rolling file covers the last 30 and revises one (a change in Texas);
    // a shorter file ends 5 days early; another drops 2021-02-20.
    const loaded = texas(40);
    const window = texas(40, (r, i) => (i === 39 ? { cases: r.cases + 5 } : {})).slice(10);
    const shorter = texas(35, (r, i) => (i === 34 ? { cases: r.cases + 5 } : {}));
    const gap = texas(40, (r, i) => (i === 39 ? { cases: r.cases + 5 } : {})).filter((r) => r.date !== '2021-02-20');

    // Act
    const rolling = await gates(loaded, window, { rolling: true });
    const early = await gates(loaded, shorter);
    const missing = await gates(loaded, gap);

    // Assess
    expect(rolling.trips).toEqual([]);
    expect(early.trips.map((t) => [t.gate, t.message])).toEqual([
      ['last-date', 'Texas (48): last date 2021-03-07 is earlier than the loaded 2021-03-12'],
    ]);
    expect(missing.trips.map((t) => [t.gate, t.message])).toEqual([
      ['missing-dates', 'Texas (48): 1 loaded date(s) missing (2021-02-20)'],
    ]);
  });

  it('names loaded dates missing from a state with no changed day, and a whole month of a state the file lacks (the file ending early too)', async () => {
    // Prepare: 40 days (2021-02-01..03-12) of Texas and Ohio loaded; the next file adds a day to
    // Texas, lacks Ohio's March entirely (Ohio's February unchanged); another lacks Ohio's 02-20 only.
    const loaded = [...texas(40), ...ohio(40)];
    const noMarch = [...texas(41), ...ohio(28)];
    const gap = [...texas(41), ...ohio(40).filter((r) => r.date !== '2021-02-20')];

    // Act
    const month = await gates(loaded, noMarch);
    const day = await gates(loaded, gap);

    // Assess: Ohio, unchanged, also ends before its loaded days.
    expect(month.trips.map((t) => [t.gate, t.message])).toEqual([
      ['last-date', 'Ohio (39): last date 2021-02-28 is earlier than the loaded 2021-03-12'],
      ['missing-dates', 'Ohio (39): 12 loaded date(s) missing (2021-03-01 to 2021-03-12)'],
    ]);
    expect(day.trips.map((t) => [t.gate, t.message])).toEqual([
      ['missing-dates', 'Ohio (39): 1 loaded date(s) missing (2021-02-20)'],
    ]);
  });

  it('names a file that ends before the loaded series though it changes no day, from the loaded last dates beyond the chunks read', async () => {
    // Prepare: Texas loaded 2021-02-01..03-12; the next file is its February exactly as loaded.
    // The fetcher reads the chunks of the file's months only (February), so the loaded March
    // is known from the catalogue's last date per state (`loadedLast`) alone.
    const before = (await planned(texas(40), 'state')).chunks();
    const february = before.find((chunk) => chunk.key === 'state/48/2021-02');
    const file = (await planned(texas(28), 'state')).chunks();
    const collect = (loadedLast?: Map<string, string>) => {
      const collector = new GeoGateCollector({
        level: 'state',
        thresholds: DEFAULT_QUALITY_GATES,
        rolling: false,
        from: '2021-02-01',
        to: '2021-02-28',
        loadedStates: new Set(['48']),
        ...(loadedLast ? { loadedLast } : {}),
      });
      for (const chunk of file) {
        const hashes = new Map(february?.days.map((d) => [d.date, d.hash]));
        collector.addChunk(chunk, hashes, new Set(changedDays(chunk, hashes)));
      }
      return collector.finish(async () => new Map());
    };

    // Act
    const withCatalogue = await collect(new Map([['48', '2021-03-12']]));
    const chunksReadOnly = await collect();

    // Assess
    expect(file.map((chunk) => changedDays(chunk, new Map(february?.days.map((d) => [d.date, d.hash]))))).toEqual([[]]);
    expect(withCatalogue.map((t) => [t.gate, t.message])).toEqual([
      ['last-date', 'Texas (48): last date 2021-02-28 is earlier than the loaded 2021-03-12'],
    ]);
    expect(chunksReadOnly).toEqual([]);
  });

  it("leaves out a state's Unknown county (cases not yet placed fall) and labels counties by name and state", async () => {
    // Prepare: Iowa's Unknown and Harris both fall by 5,000 (50%) on their new day.
    const rows = (count: number, fall: boolean): Row[] =>
      dateRange('2021-02-01', count).flatMap((date, i) => {
        const cases = fall && i === count - 1 ? 5_000 : 10_000 + i;
        return [
          { date, geo: '19-unknown', name: 'Unknown', state: 'Iowa', cases, deaths: 0 },
          { date, geo: '48201', name: 'Harris', state: 'Texas', cases, deaths: 0 },
        ];
      });

    // Act
    const { trips } = await gates(rows(10, false), rows(11, true), { level: 'county' });

    // Assess
    expect(trips.map((t) => t.message)).toEqual([
      'Harris, TX (48201): cases 10,009 on 2021-02-10 → 5,000 on 2021-02-11',
    ]);
  });
});

describe('the missing-geographies gate', () => {
  /** Texas counties on `count` days from 2021-02-01, rising; `keep` drops a row when false. */
  const counties = (count: number, keep: (geo: string, date: string) => boolean = () => true): Row[] =>
    dateRange('2021-02-01', count).flatMap((date, i) =>
      [
        ['48-unknown', 'Unknown'],
        ['48029', 'Bexar'],
        ['48113', 'Dallas'],
        ['48201', 'Harris'],
      ]
        .filter(([geo]) => keep(geo as string, date))
        .map(([geo, name]) => ({
          date,
          geo: geo as string,
          name: name as string,
          state: 'Texas',
          cases: 1000 + i,
          deaths: 10,
        })),
    );

  it('names a county absent from loaded dates the file still has rows for, with its dates, and one absent from the whole file', async () => {
    // Prepare: 10 days loaded; the next file adds a day, lacks Dallas on 02-03..02-05 and Bexar on every day.
    const next = counties(
      11,
      (geo, date) => geo !== '48029' && !(geo === '48113' && date >= '2021-02-03' && date <= '2021-02-05'),
    );

    // Act
    const { trips, geoReads } = await gates(counties(10), next, { level: 'county', rolling: true });

    // Assess: Bexar, named by its catalogue default (the file has no row of it), and Dallas by the file's name.
    expect(trips).toEqual([
      {
        gate: 'missing-geographies',
        level: 'county',
        geo: '48029',
        message: 'County 48029, Texas (48029): absent on 10 loaded date(s) (2021-02-01 to 2021-02-10)',
      },
      {
        gate: 'missing-geographies',
        level: 'county',
        geo: '48113',
        message: 'Dallas, TX (48113): absent on 3 loaded date(s) (2021-02-03 to 2021-02-05)',
      },
    ]);
    expect(geoReads).toEqual(['county/48/2021-02']);
    expect(summarizeGeoTrips('county', 'us-counties-recent.csv', trips, DEFAULT_QUALITY_GATES)).toEqual([
      {
        gate: 'missing-geographies',
        message:
          'counties (us-counties-recent.csv): geographies loaded on a date are missing from the file on that date in 2 counties: ' +
          'County 48029, Texas (48029): absent on 10 loaded date(s) (2021-02-01 to 2021-02-10); ' +
          'Dallas, TX (48113): absent on 3 loaded date(s) (2021-02-03 to 2021-02-05)',
      },
    ]);
  });

  it('reads no day geographies for an unchanged file or a new day, and ignores a county absent from a new day', async () => {
    // Prepare / Act: the same file again; a file adding a day without Dallas.
    const same = await gates(counties(10), counties(10), { level: 'county' });
    const added = await gates(
      counties(10),
      counties(11, (geo, date) => !(geo === '48113' && date === '2021-02-11')),
      {
        level: 'county',
      },
    );

    // Assess
    expect(same.trips).toEqual([]);
    expect(same.geoReads).toEqual([]);
    expect(added.trips).toEqual([]);
    expect(added.geoReads).toEqual([]);
  });

  it('passes a ledger from before the day geographies were recorded (nothing to compare with)', async () => {
    // Prepare / Act
    const { trips, geoReads } = await gates(
      counties(10),
      counties(10, (geo) => geo !== '48113'),
      {
        level: 'county',
        noDayGeos: true,
      },
    );

    // Assess
    expect(geoReads).toEqual(['county/48/2021-02']);
    expect(trips).toEqual([]);
  });

  it('allows as many absent dates per geography as maxMissingDates', async () => {
    // Prepare: Dallas absent on one loaded date.
    const next = counties(10, (geo, date) => !(geo === '48113' && date === '2021-02-04'));

    // Act
    const strict = await gates(counties(10), next, { level: 'county' });
    const lenient = await gates(counties(10), next, {
      level: 'county',
      thresholds: { ...DEFAULT_QUALITY_GATES, maxMissingDates: 1 },
    });

    // Assess
    expect(strict.trips.map((t) => t.message)).toEqual(['Dallas, TX (48113): absent on 1 loaded date(s) (2021-02-04)']);
    expect(lenient.trips).toEqual([]);
  });
});

describe('the one-line messages of thousands of geographies', () => {
  const trips: GeoGateTrip[] = Array.from({ length: 3_000 }, (_, i) => ({
    gate: 'cumulative-fall' as const,
    level: 'county' as const,
    geo: `48${String(i + 1).padStart(3, '0')}`,
    message: `County ${i + 1}, TX (48${String(i + 1).padStart(3, '0')}): cases 5,000 on 2021-03-01 → 1,000 on 2021-03-02`,
  }));

  it('keeps one entry per gate naming three geographies and counting the rest', () => {
    // Prepare: the first county's message is very long.
    const long = [{ ...(trips[0] as GeoGateTrip), message: `${'y'.repeat(500)}` }, ...trips.slice(1)];

    // Act
    const summary = summarizeGeoTrips('county', 'us-counties-recent.csv', long, DEFAULT_QUALITY_GATES);

    // Assess
    expect(summary).toEqual([
      {
        gate: 'cumulative-fall',
        message:
          'counties (us-counties-recent.csv): a cumulative count falls from one day to the next beyond 10.0% and 1,000 in 3,000 counties: ' +
          `${'y'.repeat(159)}…; ` +
          'County 2, TX (48002): cases 5,000 on 2021-03-01 → 1,000 on 2021-03-02; ' +
          'County 3, TX (48003): cases 5,000 on 2021-03-01 → 1,000 on 2021-03-02; and 2,997 more',
      },
    ]);
  });

  it('makes the hold reason one line of bounded length, naming at most three gates', () => {
    // Prepare: five gates, one of them with a very long message.
    const gates: GateTrip[] = [
      { gate: 'last-date', message: 'x'.repeat(5_000) },
      ...summarizeGeoTrips('county', 'us-counties.csv', trips, DEFAULT_QUALITY_GATES),
      { gate: 'revised-down', message: 'Ohio (39): cases on 2021-02-10 109,000 → 89,000\nsecond line' },
      { gate: 'revised-share', message: 'b' },
      { gate: 'missing-dates', message: 'c' },
    ];

    // Act
    const reason = heldReason('s-20261125T060000Z', gates);

    // Assess
    expect(reason).not.toMatch(/[\r\n]/);
    expect(reason.length).toBeLessThan(2_000);
    expect(reason).toMatch(
      /^Held: the snapshot tripped 5 data-quality gate\(s\): x+…; counties .* and 2,997 more; Ohio/,
    );
    expect(reason).toContain('; and 2 more (see etl status). Nothing was loaded.');
    expect(reason).toContain('pnpm etl approve s-20261125T060000Z');
  });
});
