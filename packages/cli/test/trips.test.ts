import type { HeldGeoTrip } from '@covid-etl/platform';
import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/commands/output.js';
import { formatRunReport, type RunReport } from '../src/ops/report.js';
import { formatTrips, groupTrips, parseTripsShown, sortTrips, tripSeverity } from '../src/trips.js';

/**
 * The per-geography trips of a HELD run as `etl status` and `etl approve` show them: grouped by
 * gate and level, most severe first, bounded, one line per trip, and nothing new for a run whose
 * gates tripped on the nation alone.
 */

const RUN = 's-20210318T000000Z';

/** A county's `cumulative-fall` in the fetcher's wording (`GeoGateTrip.message`). */
function countyFall(fips: string, name: string, before: number, after: number): HeldGeoTrip {
  const n = (v: number) => v.toLocaleString('en-US');
  return {
    gate: 'cumulative-fall',
    level: 'county',
    geo: fips,
    message: `${name}, TX (${fips}): cases ${n(before)} on 2021-03-17 → ${n(after)} on 2021-03-18`,
  };
}

function report(overrides: Partial<RunReport> = {}): RunReport {
  return {
    runId: RUN,
    status: 'HELD',
    stage: 'gates',
    trigger: 'schedule',
    startedAt: '2021-03-18T00:00:00.000Z',
    finishedAt: '2021-03-18T00:01:00.000Z',
    durationMs: 60_000,
    counts: { inserted: 0, updated: 0, unchanged: 0, rejected: 0 },
    chunks: { expected: 0, loaded: 0, pending: 0, skipped: 0 },
    pendingChunks: [],
    rejectedRows: [],
    deadLetterQueues: [],
    failure: { reason: 'Held: the snapshot tripped 1 data-quality gate(s): …', stage: 'gates' },
    dateRange: null,
    ...overrides,
  };
}

describe('tripSeverity: how much, from the figures of each gate', () => {
  it('reads the count lost, the share, the dates missing, the days behind and the dates a county is absent', () => {
    // Prepare
    const trips: HeldGeoTrip[] = [
      countyFall('48201', 'Harris', 300_000, 1_000),
      {
        gate: 'revised-down',
        level: 'state',
        geo: '39',
        message: 'Ohio (39): cases on 2021-02-05 104,000 → 50,000 (and 2 more revision(s))',
      },
      {
        gate: 'revised-share',
        level: 'county',
        geo: '36-nyc',
        message: 'New York City, NY (36-nyc): revises 12 of 30 loaded dates (40.0%)',
      },
      {
        gate: 'missing-dates',
        level: 'county',
        geo: '48',
        message: 'Texas (48) counties: 1,204 loaded date(s) missing (2020-03-01 to 2021-03-01)',
      },
      {
        gate: 'last-date',
        level: 'state',
        geo: '06',
        message: 'California (06): last date 2021-03-10 is earlier than the loaded 2021-03-18',
      },
      {
        gate: 'missing-geographies',
        level: 'county',
        geo: '10001',
        message: 'Kent, Delaware (10001): absent on 30 loaded date(s) (2021-02-16 to 2021-03-17)',
      },
      { gate: 'cumulative-fall', level: 'state', geo: '48', message: 'Texas (48): no figures here' },
    ];

    // Act
    const severities = trips.map(tripSeverity);

    // Assess
    expect(severities).toEqual([299_000, 54_000, 40, 1_204, 8, 30, undefined]);
  });

  it('ignores digits in the name: only the figures after the label count', () => {
    // Prepare: a name with its own "1,000,000 → 2" before the geography's id.
    const trip = countyFall('48999', 'Odd 1,000,000 → 2 County', 5_000, 3_000);

    // Act / Assess
    expect(tripSeverity(trip)).toBe(2_000);
  });
});

describe('groupTrips / sortTrips: by gate and level, most severe first', () => {
  it('orders the gates as the run does, states before counties, and keeps the kept order on ties', () => {
    // Prepare
    const trips: HeldGeoTrip[] = [
      countyFall('48001', 'Anderson', 10_000, 5_000),
      {
        gate: 'last-date',
        level: 'county',
        geo: '48',
        message: 'Texas (48) counties: last date 2021-03-17 is earlier than the loaded 2021-03-18',
      },
      countyFall('48003', 'Andrews', 90_000, 5_000),
      {
        gate: 'cumulative-fall',
        level: 'state',
        geo: '48',
        message: 'Texas (48): cases 2,000,000 on 2021-03-17 → 1,000 on 2021-03-18',
      },
      { gate: 'cumulative-fall', level: 'county', geo: '48005', message: 'Angelina, TX (48005): unreadable' },
      countyFall('48007', 'Aransas', 10_000, 5_000),
    ];

    // Act
    const groups = groupTrips(trips);

    // Assess
    expect(groups.map((g) => [g.gate, g.level, g.trips.map((t) => t.geo)])).toEqual([
      ['last-date', 'county', ['48']],
      ['cumulative-fall', 'state', ['48']],
      ['cumulative-fall', 'county', ['48003', '48001', '48007', '48005']],
    ]);
    expect(sortTrips(trips).map((t) => t.geo)).toEqual(['48', '48', '48003', '48001', '48007', '48005']);
  });
});

describe('formatTrips: what etl status and etl approve print', () => {
  it('bounds thousands of county trips to 20, the largest falls first, then says how to see the rest', () => {
    // Prepare: 3,000 counties, each falling by a different amount (County 1321 falls the most).
    const trips = Array.from({ length: 3_000 }, (_, i) =>
      countyFall(String(10_000 + i), `County ${i}`, 100_000 + ((i * 7_919) % 3_000) * 10, 1_000),
    );
    const expected = [...trips]
      .sort((a, b) => (tripSeverity(b) ?? 0) - (tripSeverity(a) ?? 0))
      .slice(0, 20)
      .map((t) => `    ${t.message}`);

    // Act
    const lines = formatTrips(trips, { runId: RUN, environment: 'dev' });

    // Assess
    expect(lines).toEqual([
      '  trips      cumulative-fall (counties): 3,000 counties, largest fall first',
      ...expected,
      `    … and 2,980 more: pnpm etl status ${RUN} --trips all --env dev`,
    ]);
    expect(lines[1]).toBe('    County 1321, TX (11321): cases 129,990 on 2021-03-17 → 1,000 on 2021-03-18');
  });

  it('lists every trip with --trips all, and only the headers with --trips 0', () => {
    // Prepare
    const trips = Array.from({ length: 1_500 }, (_, i) => countyFall(String(20_000 + i), `C${i}`, 50_000 + i, 1));

    // Act
    const all = formatTrips(trips, { shown: parseTripsShown('all'), runId: RUN, environment: 'local' });
    const none = formatTrips(trips, { shown: parseTripsShown('0'), runId: RUN, environment: 'local' });

    // Assess
    expect(all).toHaveLength(1 + 1_500);
    expect(all.at(-1)).toBe('    C0, TX (20000): cases 50,000 on 2021-03-17 → 1 on 2021-03-18');
    expect(none).toEqual([
      '  trips      cumulative-fall (counties): 1,500 counties, largest fall first',
      `    … and 1,500 more: pnpm etl status ${RUN} --trips all`,
    ]);
  });

  it('keeps one line per trip whatever the name holds, and names the id when the message does not', () => {
    // Prepare: names with a line break, a tab, a carriage return, a zero-width joiner, an escape
    // sequence, quotes and accents; one message without its id.
    const odd: HeldGeoTrip[] = [
      countyFall('35013', 'Doña Ana', 40_000, 1_000),
      countyFall('48111', 'Line\nBreak', 30_000, 1_000),
      countyFall('48113', 'Tab\tand\rreturn', 20_000, 1_000),
      countyFall('48115', 'Zero\u200dwidth \u001b[31mred\u001b[0m', 10_000, 1_000),
      countyFall('48117', `O'Brien "the" <b>`, 5_000, 1_000),
      { gate: 'cumulative-fall', level: 'county', geo: '48119', message: 'cases fell' },
    ];

    // Act
    const lines = formatTrips(odd, { runId: RUN, environment: 'local' });

    // Assess
    expect(lines).toHaveLength(1 + odd.length);
    expect(lines.slice(1)).toEqual([
      '    Doña Ana, TX (35013): cases 40,000 on 2021-03-17 → 1,000 on 2021-03-18',
      '    Line Break, TX (48111): cases 30,000 on 2021-03-17 → 1,000 on 2021-03-18',
      '    Tab and return, TX (48113): cases 20,000 on 2021-03-17 → 1,000 on 2021-03-18',
      '    Zero?width ?[31mred?[0m, TX (48115): cases 10,000 on 2021-03-17 → 1,000 on 2021-03-18',
      `    O'Brien "the" <b>, TX (48117): cases 5,000 on 2021-03-17 → 1,000 on 2021-03-18`,
      '    48119: cases fell',
    ]);
    for (const line of lines) expect(line).not.toMatch(/[\p{Cc}\p{Cf}]/u);
  });

  it('shows nothing for no trips', () => {
    expect(formatTrips([], { runId: RUN, environment: 'local' })).toEqual([]);
  });
});

describe('parseTripsShown (--trips)', () => {
  it('takes a count or all, 20 by default, and refuses anything else in one line', () => {
    expect(parseTripsShown(undefined)).toBe(20);
    expect(parseTripsShown('5')).toBe(5);
    expect(parseTripsShown('ALL')).toBe(Number.POSITIVE_INFINITY);
    expect(() => parseTripsShown('-1')).toThrow(
      new UsageError('--trips -1: expected a number of trips per gate (0 or more) or "all"'),
    );
    expect(() => parseTripsShown('2.5')).toThrow(UsageError);
  });
});

describe('etl status text of a HELD run', () => {
  const nationGates: RunReport['gates'] = [
    { gate: 'last-date', message: 'the file ends on 2023-03-21, before the loaded 2023-03-23' },
    { gate: 'missing-dates', message: '2 loaded date(s) are missing from the file: 2023-03-22, 2023-03-23' },
  ];

  it('of a run whose gates tripped on the nation alone is exactly as before, line by line', () => {
    // Act
    const text = formatRunReport(report({ gates: nationGates }), 'local');

    // Assess
    expect(text.split('\n')).toEqual([
      `Run ${RUN}: HELD (stage: gates)`,
      '  trigger    schedule, started 2021-03-18T00:00:00.000Z, finished 2021-03-18T00:01:00.000Z (1 min 0 s)',
      '  records    0 inserted, 0 updated, 0 unchanged, 0 rejected',
      '  chunks     0/0 loaded, 0 pending, 0 month(s) unchanged and skipped',
      '  failure    Held: the snapshot tripped 1 data-quality gate(s): … (stage gates)',
      '  gate       last-date: the file ends on 2023-03-21, before the loaded 2023-03-23',
      '  gate       missing-dates: 2 loaded date(s) are missing from the file: 2023-03-22, 2023-03-23',
      `  decide     pnpm etl approve ${RUN}  (load exactly this snapshot)`,
      `             pnpm etl reject ${RUN}   (end it REJECTED, load nothing)`,
    ]);
  });

  it('lists the states and counties under the gate lines, before the commands that decide', () => {
    // Prepare
    const geoTrips = Array.from({ length: 25 }, (_, i) => countyFall(String(48_001 + 2 * i), `C${i}`, 10_000 + i, 1));

    // Act
    const lines = formatRunReport(
      report({
        gates: [{ gate: 'cumulative-fall', message: 'counties (us-counties.csv): … in 25 counties: …; and 22 more' }],
        geoTrips,
      }),
      'local',
      50,
      3,
    ).split('\n');

    // Assess
    const gate = lines.findIndex((line) => line.startsWith('  gate '));
    expect(lines.slice(gate)).toEqual([
      '  gate       cumulative-fall: counties (us-counties.csv): … in 25 counties: …; and 22 more',
      '  trips      cumulative-fall (counties): 25 counties, largest fall first',
      '    C24, TX (48049): cases 10,024 on 2021-03-17 → 1 on 2021-03-18',
      '    C23, TX (48047): cases 10,023 on 2021-03-17 → 1 on 2021-03-18',
      '    C22, TX (48045): cases 10,022 on 2021-03-17 → 1 on 2021-03-18',
      `    … and 22 more: pnpm etl status ${RUN} --trips all`,
      `  decide     pnpm etl approve ${RUN}  (load exactly this snapshot)`,
      `             pnpm etl reject ${RUN}   (end it REJECTED, load nothing)`,
    ]);
  });
});
