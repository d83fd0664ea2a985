import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { exportCommand } from '../src/commands/data.js';
import type { CommandDeps } from '../src/ops/dlq.js';
import { testAwsBackend } from './ops-helpers/aws-backend.js';
import { FakeTables } from './ops-helpers/fake-ledger.js';
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

  it('refuses --as-of with a state or county (time travel is the nation only)', async () => {
    // Act
    const refused = exportCommand({ env: 'dev', format: 'csv', geo: '48', asOf: 's-20261125T060000Z' }, deps().deps);

    // Assess
    await expect(refused).rejects.toThrow('--as-of works for the nation only: drop --geo 48 or --as-of');
  });
});
