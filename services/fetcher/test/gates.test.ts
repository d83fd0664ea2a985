import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_QUALITY_GATES } from '@covid-etl/contracts';
import { transformSources } from '@covid-etl/core';
import { SHARED_DATA_DIR, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { evaluateGates, type SeriesDay } from '../src/app.js';

interface Day extends SeriesDay {
  cases: number;
  deaths: number;
  recovered: number;
}

const national = { cumulative: ['cases', 'deaths'], values: ['cases', 'deaths', 'recovered'] } as const;
const gates = (snapshot: Day[], loaded: Day[], thresholds = DEFAULT_QUALITY_GATES) =>
  evaluateGates({ snapshot, loaded, thresholds, ...national });

/** `count` days from 2020-03-01 with rising counts; `change` edits a day. */
function series(count: number, change: (day: Day, i: number) => Partial<Day> = () => ({})): Day[] {
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(Date.UTC(2020, 2, 1 + i)).toISOString().slice(0, 10);
    const day = { date, cases: 100_000 + 1000 * i, deaths: 1000 + 10 * i, recovered: 500 + i };
    return { ...day, ...change(day, i) };
  });
}

/** `base` with the snapshot's days written over it: what is loaded after loading it. */
function overlay(base: Day[], snapshot: Day[]): Day[] {
  const all = new Map(base.map((d) => [d.date, d]));
  for (const d of snapshot) all.set(d.date, d);
  return [...all.values()];
}

describe('evaluateGates', () => {
  it('passes a snapshot that extends the loaded series', () => {
    expect(gates(series(40), series(30))).toEqual([]);
  });

  it('names the last date and the missing dates of a shorter snapshot, with figures', () => {
    expect(gates(series(20), series(30))).toEqual([
      { gate: 'last-date', message: "the snapshot's last date 2020-03-20 is earlier than the loaded 2020-03-30" },
      {
        gate: 'missing-dates',
        message:
          '10 loaded date(s) are missing from the snapshot (2020-03-21 to 2020-03-30); rows 30 loaded, 20 in the snapshot',
      },
    ]);
  });

  it('names a loaded date missing from the middle (a shrink) even when the last date is the same', () => {
    const shrunk = series(30).filter((d) => d.date !== '2020-03-10');
    expect(gates(shrunk, series(30)).map((t) => t.gate)).toEqual(['missing-dates']);
  });

  it('names a cumulative fall inside the snapshot beyond both tolerances, and lets a small one pass', () => {
    const big = series(10, (d, i) => (i === 5 ? { cases: d.cases - 20_000 } : {}));
    const small = series(10, (d, i) => (i === 5 ? { deaths: d.deaths - 500 } : {}));
    expect(gates(big, [])).toEqual([
      {
        gate: 'cumulative-fall',
        message:
          '1 day-to-day fall(s) of a cumulative count in the snapshot beyond 10.0% and 1,000: cases 104,000 on 2020-03-05 → 85,000 on 2020-03-06',
      },
    ]);
    expect(gates(small, [])).toEqual([]);
  });

  it('names loaded values revised down beyond the tolerance', () => {
    const revised = series(30, (d, i) => (i < 3 ? { cases: d.cases - 50_000 } : {}));
    const trips = gates(revised, series(30));
    expect(trips.map((t) => t.gate)).toEqual(['revised-down']);
    expect(trips[0]?.message).toBe(
      '3 loaded value(s) revised down beyond 5.0% and 1,000: cases on 2020-03-01 100,000 → 50,000; cases on 2020-03-02 101,000 → 51,000; cases on 2020-03-03 102,000 → 52,000',
    );
  });

  it('names a run that revises more than the allowed share of the loaded history', () => {
    const revised = series(30, (d, i) => (i < 24 ? { recovered: d.recovered + 1 } : {}));
    expect(gates(revised, series(30))).toEqual([
      {
        gate: 'revised-share',
        message: 'the snapshot revises 24 of 30 loaded dates (80.0%); at most 75.0% may change in one run',
      },
    ]);
    expect(gates(revised, series(30), { ...DEFAULT_QUALITY_GATES, maxRevisedShare: 0.9 })).toEqual([]);
  });
});

const describeReal = sharedDataAvailable() ? describe : describe.skip;

describeReal('the real snapshots loaded in date order trip no gate (defaults)', () => {
  it('national: NYT 2020-06-04, 2020-06-25, 2023-03-23 with the JHU files of their time', async () => {
    const loads: [string, string][] = [
      [snapshotPath('nytEarly'), snapshotPath('jhuWithLatLong')],
      [snapshotPath('nytNext'), snapshotPath('jhuWithLatLong')],
      [snapshotPath('nytFinal'), snapshotPath('jhuWithLatLong')],
      [snapshotPath('nytFinal'), snapshotPath('jhuFinal')],
    ];
    let loaded: Day[] = [];
    const tripped: unknown[] = [];
    for (const [nyt, jhu] of loads) {
      const { records } = await transformSources(createReadStream(nyt), createReadStream(jhu));
      tripped.push(...gates(records, loaded));
      loaded = overlay(loaded, records);
    }
    expect(tripped).toEqual([]);
    expect(loaded.length).toBeGreaterThan(400);
  }, 240_000);

  it('states: every state of us-states 2020-08-13, then 2021-03-18', () => {
    const byState = (file: string) => {
      const states = new Map<string, Day[]>();
      for (const line of readFileSync(path.join(SHARED_DATA_DIR, 'nyt', file), 'utf8')
        .split(/\r?\n/)
        .slice(1)) {
        if (!line.trim()) continue;
        const [date, state, , cases, deaths] = line.split(',') as [string, string, string, string, string];
        const days = states.get(state) ?? [];
        days.push({ date, cases: Number(cases), deaths: Number(deaths), recovered: 0 });
        states.set(state, days);
      }
      return states;
    };
    const first = byState('us-states_2020-08-13.csv');
    const second = byState('us-states_2021-03-18.csv');
    const tripped: string[] = [];
    for (const [state, days] of second) {
      const before = first.get(state) ?? [];
      for (const trip of [...gates(before, []), ...gates(days, before)]) tripped.push(`${state}: ${trip.message}`);
    }
    expect(second.size).toBe(55);
    expect(tripped).toEqual([]);
  });
});
