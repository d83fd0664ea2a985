import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { exportCommand } from '../src/commands/data.js';
import type { CommandDeps } from '../src/ops/dlq.js';
import { testAwsBackend } from './ops-helpers/aws-backend.js';
import { FakeTables, runItem } from './ops-helpers/fake-ledger.js';
import { captureOutput, operatorConfig } from './ops-helpers/fake-sqs.js';

/**
 * `etl export --geo <id>` on a deployed environment: the AWS backend on aws-sdk-client-mock, a
 * fake data table answering Query in pages of 2. The local stack: export-geo-local.test.ts.
 */
const ddb = mockClient(DynamoDBDocumentClient);
let tables: FakeTables;

/** Day items as the loader stores them: `deaths` absent when not reported. */
const DAYS = [
  { pk: '72001', sk: '2021-03-01', cases: 2 },
  { pk: '72001', sk: '2021-03-02', cases: 3 },
  { pk: '72001', sk: '2021-03-03', cases: 5 },
  { pk: '48201', sk: '2021-03-01', cases: 100, deaths: 1 },
  { pk: '48201', sk: '2021-03-02', cases: 110, deaths: 2 },
  { pk: '48201', sk: '2021-03-03', cases: 130, deaths: 2 },
];

function deps() {
  const captured = captureOutput();
  const value: CommandDeps = { out: captured.out, open: async () => testAwsBackend(operatorConfig('dev')) };
  return { deps: value, ...captured };
}

beforeEach(() => {
  ddb.reset();
  tables = new FakeTables();
  ddb.on(GetCommand).callsFake(tables.get);
  ddb.on(QueryCommand).callsFake(tables.query);
  for (const day of DAYS) tables.put({ ...day, runId: 'r', change: 'inserted', updatedAt: '2026-11-25T06:00:00Z' });
  tables.putDay('2021-03-01', { cases: 1_000, deaths: 10, recovered: 5 });
});

afterAll(() => {
  ddb.restore();
});

describe('etl export --geo --env dev', () => {
  it('prints a county as date,cases,deaths with an empty deaths where not reported, across Query pages', async () => {
    // Prepare
    const { deps: d, stdout } = deps();

    // Act
    const code = await exportCommand({ env: 'dev', format: 'csv', geo: '72001' }, d);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toBe('date,cases,deaths\n2021-03-01,2,\n2021-03-02,3,\n2021-03-03,5,\n');
    const queries = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries.length).toBeGreaterThan(1);
    expect(queries.every((input) => input.ExpressionAttributeValues?.[':pk'] === '72001')).toBe(true);
  });

  it('prints JSON between --from and --to, deaths null where not reported', async () => {
    // Prepare
    const county = deps();
    const municipio = deps();

    // Act
    await exportCommand({ env: 'dev', format: 'csv', json: true, geo: '48201', from: '2021-03-02' }, county.deps);
    await exportCommand({ env: 'dev', format: 'json', geo: '72001', to: '2021-03-01' }, municipio.deps);

    // Assess
    expect(JSON.parse(county.stdout())).toEqual([
      { date: '2021-03-02', cases: 110, deaths: 2 },
      { date: '2021-03-03', cases: 130, deaths: 2 },
    ]);
    expect(JSON.parse(municipio.stdout())).toEqual([{ date: '2021-03-01', cases: 2, deaths: null }]);
  });

  it('prints the nation unchanged, with recoveries, for --geo US', async () => {
    // Prepare
    const us = deps();
    const none = deps();

    // Act
    await exportCommand({ env: 'dev', format: 'csv', geo: 'US' }, us.deps);
    await exportCommand({ env: 'dev', format: 'csv' }, none.deps);

    // Assess
    expect(us.stdout()).toBe('date,cases,deaths,recovered\n2021-03-01,1000,10,5\n');
    expect(none.stdout()).toBe(us.stdout());
  });

  it.each([
    ['TX', '--geo: geography "TX" is not a geography id; expected US, a state FIPS such as 06'],
    ['48000', '--geo: geography "48000" has county code 000, which is the state itself'],
    ['us', '--geo: geography "us" is not written in its exact case'],
  ])('refuses --geo %s in one line before reading anything', async (geo, message) => {
    // Act
    const refused = exportCommand({ env: 'dev', format: 'csv', geo }, deps().deps);

    // Assess
    await expect(refused).rejects.toThrow(message);
    await expect(refused).rejects.toMatchObject({ name: 'UsageError' });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('prints a county as it stood right after a run: later updates undone, later inserts gone, a later removal back', async () => {
    // Prepare: R1 loaded 48201 (the days above); R2 revised 03-01 and added 03-04; R3 (a revert) removed 03-02.
    const [R1, R2, R3] = ['s-20261125T060000Z', 's-20261126T060000Z', 'r-20261127T060000-abcdef'];
    tables.putRun(runItem(R1, { status: 'SUCCEEDED', startedAt: '2026-11-25T06:00:00.000Z' }));
    tables.putRun(runItem(R2, { status: 'SUCCEEDED', startedAt: '2026-11-26T06:00:00.000Z' }));
    tables.putRun(runItem(R3, { status: 'SUCCEEDED', startedAt: '2026-11-27T06:00:00.000Z', trigger: 'revert' }));
    const write = (date: string, runId: string, at: string, values: object, before: object | null, extra = {}) => {
      const change = before ? 'updated' : 'inserted';
      const day = { geo: '48201', date, runId, updatedAt: at, change, before, ...values, ...extra };
      tables.put({ pk: '48201', sk: date, ...day });
      tables.put({ pk: `DAY#48201#${date}`, sk: `${at}#${runId}`, vrun: runId, vdate: `${date}#48201`, ...day });
    };
    for (const day of DAYS.filter((d) => d.pk === '48201')) {
      write(day.sk, R1, '2026-11-25T06:01:00Z', { cases: day.cases, deaths: day.deaths }, null);
    }
    write('2021-03-01', R2, '2026-11-26T06:01:00Z', { cases: 105, deaths: 1 }, { cases: 100, deaths: 1, runId: R1 });
    write('2021-03-04', R2, '2026-11-26T06:01:00Z', { cases: 150, deaths: 3 }, null);
    write(
      '2021-03-02',
      R3,
      '2026-11-27T06:01:00Z',
      { cases: 110, deaths: 2 },
      { cases: 110, deaths: 2, runId: R1 },
      {
        change: 'deleted',
        removed: true,
      },
    );
    const [afterR1, afterR2, now] = [deps(), deps(), deps()];

    // Act
    await exportCommand({ env: 'dev', format: 'csv', geo: '48201', asOf: R1 }, afterR1.deps);
    await exportCommand({ env: 'dev', format: 'json', geo: '48201', asOf: R2, from: '2021-03-02' }, afterR2.deps);
    await exportCommand({ env: 'dev', format: 'csv', geo: '48201' }, now.deps);

    // Assess
    expect(afterR1.stdout()).toBe('date,cases,deaths\n2021-03-01,100,1\n2021-03-02,110,2\n2021-03-03,130,2\n');
    expect(JSON.parse(afterR2.stdout())).toEqual([
      { date: '2021-03-02', cases: 110, deaths: 2 },
      { date: '2021-03-03', cases: 130, deaths: 2 },
      { date: '2021-03-04', cases: 150, deaths: 3 },
    ]);
    expect(now.stdout()).toBe('date,cases,deaths\n2021-03-01,105,1\n2021-03-03,130,2\n2021-03-04,150,3\n');
  });

  it('refuses --as-of a run the ledger does not know, with --geo too', async () => {
    // Act
    const refused = exportCommand({ env: 'dev', format: 'csv', geo: '48', asOf: 's-20261125T060000Z' }, deps().deps);

    // Assess
    await expect(refused).rejects.toThrow('No run s-20261125T060000Z in the ledger (see etl runs)');
  });
});
