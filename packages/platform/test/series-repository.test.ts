import { type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { SeriesRepository, StoredRecord } from '../src/index.js';

let local: LocalTables;
let series: SeriesRepository;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  ({ series } = await local.tables());
});

const R1 = 's-20261124T060000Z';
const R2 = 's-20261125T060000Z';
const t1 = new Date('2026-11-24T06:01:00.000Z');
const t2 = new Date('2026-11-25T06:01:00.000Z');
const day = (date: string, cases: number) => ({ date, cases, deaths: Math.floor(cases / 100), recovered: 0 });

describe('SeriesRepository.write', () => {
  it('inserts a day only when it is absent', async () => {
    // Prepare
    const record = day('2020-03-01', 100);

    // Act
    const inserted = await series.write(record, undefined, { runId: R1, now: t1 });
    const again = await series.write({ ...record, cases: 999 }, undefined, { runId: R2, now: t2 });

    // Assess
    expect(inserted).toMatchObject({ ...record, runId: R1, change: 'inserted', before: null });
    expect(again).toBeUndefined();
    expect(await series.query()).toEqual([{ ...record, runId: R1, change: 'inserted', updatedAt: t1.toISOString() }]);
  });

  it('updates a day only while it still holds the values and run id that were read', async () => {
    // Prepare
    await series.write(day('2020-03-01', 100), undefined, { runId: R1, now: t1 });
    const [read] = await series.query();
    const stored = read as StoredRecord;

    // Act
    const updated = await series.write(day('2020-03-01', 150), stored, { runId: R2, now: t2 });
    const stale = await series.write(day('2020-03-01', 175), stored, { runId: R2, now: t2 });
    const wrongRun = await series.write(
      day('2020-03-01', 175),
      { ...stored, cases: 150, runId: R1 },
      {
        runId: R2,
        now: t2,
      },
    );

    // Assess
    expect([updated !== undefined, stale, wrongRun]).toEqual([true, undefined, undefined]);
    expect(await series.query()).toEqual([
      {
        ...day('2020-03-01', 150),
        runId: R2,
        change: 'updated',
        updatedAt: t2.toISOString(),
        before: { cases: 100, deaths: 1, recovered: 0, runId: R1 },
      },
    ]);
  });

  it('refuses to update a day that is not stored', async () => {
    // Prepare
    const ghost: StoredRecord = { ...day('2020-03-02', 1), runId: R1, change: 'inserted', updatedAt: t1.toISOString() };

    // Act
    const written = await series.write(day('2020-03-02', 2), ghost, { runId: R2, now: t2 });

    // Assess
    expect(written).toBeUndefined();
    expect(await series.query()).toEqual([]);
  });
});

describe('SeriesRepository reads', () => {
  beforeEach(async () => {
    const dates = ['2020-04-02', '2020-03-31', '2020-04-01', '2020-02-29', '2021-01-01', '2020-03-01'];
    for (const [index, date] of dates.entries()) {
      await series.write(day(date, (index + 1) * 10), undefined, { runId: R1, now: t1 });
    }
  });

  it('queries the series in date order, optionally from and to a date (inclusive)', async () => {
    // Act
    const all = await series.query();
    const spring = await series.query({ from: '2020-03-01', to: '2020-04-01' });
    const fromApril = await series.query({ from: '2020-04-01' });
    const upToMarch = await series.query({ to: '2020-03-01' });

    // Assess
    expect(all.map((record) => record.date)).toEqual([
      '2020-02-29',
      '2020-03-01',
      '2020-03-31',
      '2020-04-01',
      '2020-04-02',
      '2021-01-01',
    ]);
    expect(spring.map((record) => record.date)).toEqual(['2020-03-01', '2020-03-31', '2020-04-01']);
    expect(fromApril.map((record) => record.date)).toEqual(['2020-04-01', '2020-04-02', '2021-01-01']);
    expect(upToMarch.map((record) => record.date)).toEqual(['2020-02-29', '2020-03-01']);
    expect(all[0]).toEqual({ ...day('2020-02-29', 40), runId: R1, change: 'inserted', updatedAt: t1.toISOString() });
  });

  it('reads one month by date, and nothing of the neighbouring months', async () => {
    // Act
    const march = await series.getMonth('2020-03');
    const may = await series.getMonth('2020-05');

    // Assess
    expect([...march.keys()]).toEqual(['2020-03-01', '2020-03-31']);
    expect(march.get('2020-03-31')).toMatchObject({ cases: 20, runId: R1, change: 'inserted' });
    expect(may.size).toBe(0);
  });

  it('pages through a series larger than one DynamoDB response (1 MB)', async () => {
    // Prepare: ~1100 days of ~1 KB each is over one page.
    const { series: big, dataTable } = await local.tables();
    const padding = 'x'.repeat(1_000);
    const dates = Array.from({ length: 1_100 }, (_, i) =>
      new Date(Date.UTC(2020, 0, 22) + i * 86_400_000).toISOString().slice(0, 10),
    );
    const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
    for (let i = 0; i < dates.length; i += 25) {
      await local.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [dataTable]: dates.slice(i, i + 25).map((date) => ({
              PutRequest: {
                Item: {
                  pk: 'US',
                  sk: date,
                  date,
                  cases: 1,
                  deaths: 0,
                  recovered: 0,
                  runId: R1,
                  change: 'inserted',
                  padding,
                },
              },
            })),
          },
        }),
      );
    }

    const send = jest.spyOn(local.doc, 'send');

    // Act
    const all = await big.query();

    // Assess
    expect(send.mock.calls.length).toBeGreaterThan(1);
    send.mockRestore();
    expect(all).toHaveLength(1_100);
    expect(all[0]?.date).toBe('2020-01-22');
    expect(all.at(-1)?.date).toBe(dates.at(-1));
  });
});
