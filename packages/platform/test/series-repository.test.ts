import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { dayWritten, SeriesRepository } from '../src/index.js';

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

const meta = (runId: string, now: Date) => ({ runId, runStartedAt: now.toISOString(), now });

describe('SeriesRepository.writeChanges', () => {
  it('writes inserts and updates with the values they replace, each with its version', async () => {
    // Prepare
    const inserted = dayWritten(day('2020-03-01', 100), undefined, meta(R1, t1));
    await series.writeChanges([inserted]);
    const stored = (await series.getMonth('2020-03')).get('2020-03-01');

    // Act
    await series.writeChanges([dayWritten(day('2020-03-01', 150), stored, meta(R2, t2))]);

    // Assess
    expect(await series.query()).toEqual([
      {
        ...day('2020-03-01', 150),
        runId: R2,
        change: 'updated',
        updatedAt: t2.toISOString(),
        runStartedAt: t2.toISOString(),
        before: { cases: 100, deaths: 1, recovered: 0, runId: R1 },
      },
    ]);
    expect((await series.versions.history('2020-03-01')).map((v) => [v.runId, v.change])).toEqual([
      [R1, 'inserted'],
      [R2, 'updated'],
    ]);
  });

  it('writes 25 items per BatchWriteItem request: a month of changed days is 3 requests', async () => {
    // Prepare
    const days = Array.from({ length: 31 }, (_, i) =>
      dayWritten(day(`2020-03-${String(i + 1).padStart(2, '0')}`, i), undefined, meta(R1, t1)),
    );
    const send = jest.spyOn(local.doc, 'send');

    // Act
    const requests = await series.writeChanges(days);

    // Assess
    expect(requests).toBe(3);
    expect(send.mock.calls).toHaveLength(3);
    send.mockRestore();
    expect(await series.query()).toHaveLength(31);
    expect(await series.versions.changesOf(R1)).toHaveLength(31);
  });

  it('keeps each series in its own partition, the nation under US as deployed tables hold it', async () => {
    // Prepare
    const { dataTable } = await local.tables();
    const nation = new SeriesRepository(local.doc, dataTable);
    const texas = new SeriesRepository(local.doc, dataTable, { series: '48' });

    // Act
    await nation.writeChanges([dayWritten(day('2020-03-01', 100), undefined, meta(R1, t1))]);
    await texas.writeChanges([dayWritten(day('2020-03-01', 7), undefined, meta(R1, t1))]);
    const raw = await local.doc.send(new ScanCommand({ TableName: dataTable }));

    // Assess
    expect((await nation.query()).map((r) => r.cases)).toEqual([100]);
    expect((await texas.query()).map((r) => r.cases)).toEqual([7]);
    expect((await texas.versions.history('2020-03-01')).map((v) => v.after?.cases)).toEqual([7]);
    expect(() => new SeriesRepository(local.doc, dataTable, { series: 'Texas' })).toThrow();
    expect((raw.Items ?? []).map((item) => `${item.pk} ${item.sk}`).sort()).toEqual([
      '48 2020-03-01',
      `DAY#2020-03-01 ${t1.toISOString()}#${R1}`,
      `DAY#48#2020-03-01 ${t1.toISOString()}#${R1}`,
      'US 2020-03-01',
    ]);
  });
});

describe('SeriesRepository reads', () => {
  beforeEach(async () => {
    const dates = ['2020-04-02', '2020-03-31', '2020-04-01', '2020-02-29', '2021-01-01', '2020-03-01'];
    await series.writeChanges(
      dates.map((date, index) => dayWritten(day(date, (index + 1) * 10), undefined, meta(R1, t1))),
    );
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
    expect(all[0]).toEqual({
      ...day('2020-02-29', 40),
      runId: R1,
      change: 'inserted',
      updatedAt: t1.toISOString(),
      runStartedAt: t1.toISOString(),
    });
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
