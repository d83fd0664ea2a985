import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { GeoChunkMessage, LoadChunkMessage } from '@covid-etl/contracts';
import { revertRunId } from '@covid-etl/platform';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { exportCommand } from '../src/commands/data.js';
import { diffCommand, historyCommand, revertCommand } from '../src/commands/history.js';
import type { AwsOperatorBackend } from '../src/ops/aws-backend.js';
import type { OperatorConfig } from '../src/ops/config.js';
import type { CommandDeps } from '../src/ops/dlq.js';
import { testAwsBackend } from './ops-helpers/aws-backend.js';
import { FakeTables, runItem } from './ops-helpers/fake-ledger.js';
import { captureOutput, operatorConfig } from './ops-helpers/fake-sqs.js';

/**
 * `etl history`, `diff`, `export --as-of` and `revert` on a deployed environment, against
 * aws-sdk-client-mock: a fake of both tables behind Get/Query (pages of 2 items, so every read
 * must follow LastEvaluatedKey) and the loader queue behind SendMessageBatch.
 */
const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBDocumentClient);
let config: OperatorConfig;
let tables: FakeTables;

const A = 's-20261123T060000Z';
const B = 's-20261124T060000Z';
const C = 's-20261125T060000Z';
type Values = { cases: number; deaths: number; recovered: number };
const v = (cases: number, deaths = 0): Values => ({ cases, deaths, recovered: 0 });

/** A change of a day as the loader stores it: the day item and its version item. */
function change(runId: string, at: string, date: string, before: (Values & { runId: string }) | null, after: Values) {
  const kind = before ? 'updated' : 'inserted';
  tables.put({ pk: 'US', sk: date, ...after, runId, change: kind, updatedAt: at, before });
  tables.put({
    pk: `DAY#${date}`,
    sk: `${at}#${runId}`,
    vrun: runId,
    vdate: date,
    date,
    runId,
    at,
    change: kind,
    before,
    after,
  });
}

type GeoValues = { cases: number; deaths: number | null };

/** A change of a state's or county's day as the loader stores its version (`deaths` absent: not reported). */
function geoChange(runId: string, at: string, geo: string, date: string, before: GeoValues | null, after: GeoValues) {
  const deaths = (values: GeoValues) => (values.deaths === null ? {} : { deaths: values.deaths });
  tables.put({
    pk: `DAY#${geo}#${date}`,
    sk: `${at}#${runId}`,
    vrun: runId,
    vdate: `${date}#${geo}`,
    geo,
    date,
    cases: after.cases,
    ...deaths(after),
    runId,
    change: before ? 'updated' : 'inserted',
    updatedAt: at,
    before: before ? { cases: before.cases, ...deaths(before), runId: A } : null,
  });
}

/** The data table's BatchGetItem (the current state and county days a revert checks), from the fake tables. */
function answerBatchGets(): void {
  ddb.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const [table, request] = Object.entries(input.RequestItems ?? {})[0] as [
      string,
      { Keys: Record<string, unknown>[] },
    ];
    return { Responses: { [table]: request.Keys.flatMap((Key) => tables.get({ TableName: table, Key }).Item ?? []) } };
  });
}

function backend(): AwsOperatorBackend {
  return testAwsBackend(config);
}

/** The "loader": once the revert's chunks are sent, records them (and their batch entry ids) and finishes the revert run. */
function finishRevertOnSend(
  revert: string,
  sent: (LoadChunkMessage | GeoChunkMessage)[],
  startedAt: string,
  ids: string[] = [],
): void {
  ddb.on(PutCommand).callsFake((input: PutCommandInput) => tables.put(input.Item as never));
  ddb.on(UpdateCommand).resolves({});
  ddb.on(BatchWriteCommand).resolves({});
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
    for (const entry of input.Entries ?? []) {
      sent.push(JSON.parse(entry.MessageBody as string));
      ids.push(String(entry.Id));
    }
    tables.putRun(runItem(revert, { status: 'SUCCEEDED', trigger: 'revert', startedAt }));
    return {
      Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
      Failed: [],
    };
  });
}

function deps() {
  const captured = captureOutput();
  const value: CommandDeps = {
    out: captured.out,
    open: async () => backend(),
    sleep: async () => undefined,
    pollMs: 0,
    prompt: { interactive: false, ask: async () => 'n' },
  };
  return { deps: value, ...captured };
}

beforeEach(() => {
  sqs.reset();
  ddb.reset();
  config = operatorConfig('dev');
  tables = new FakeTables();
  ddb.on(GetCommand).callsFake(tables.get);
  ddb.on(QueryCommand).callsFake(tables.query);
  // Runs A, B, C: A inserted three days, B revised two of them and added one, C revised one.
  tables.putRun(runItem(A, { status: 'SUCCEEDED', startedAt: '2026-11-23T06:00:00.000Z', months: ['2020-03'] }));
  tables.putRun(runItem(B, { status: 'SUCCEEDED', startedAt: '2026-11-24T06:00:00.000Z', months: ['2020-03'] }));
  tables.putRun(runItem(C, { status: 'SUCCEEDED', startedAt: '2026-11-25T06:00:00.000Z', months: ['2020-03'] }));
  change(A, '2026-11-23T06:01:00.000Z', '2020-03-01', null, v(10));
  change(A, '2026-11-23T06:01:00.000Z', '2020-03-02', null, v(20));
  change(A, '2026-11-23T06:01:00.000Z', '2020-03-03', null, v(30));
  change(B, '2026-11-24T06:01:00.000Z', '2020-03-01', { ...v(10), runId: A }, v(15, 1));
  change(B, '2026-11-24T06:01:00.000Z', '2020-03-02', { ...v(20), runId: A }, v(120));
  change(B, '2026-11-24T06:01:00.000Z', '2020-03-04', null, v(40));
  change(C, '2026-11-25T06:01:00.000Z', '2020-03-01', { ...v(15, 1), runId: B }, v(16, 1));
});

afterAll(() => {
  sqs.restore();
  ddb.restore();
});

describe('history commands --env dev', () => {
  it('lists every version of a day across Query pages, oldest first', async () => {
    // Prepare
    const { deps: d, stdout } = deps();

    // Act
    await historyCommand('2020-03-01', { env: 'dev', json: true }, d);

    // Assess
    const versions = JSON.parse(stdout()) as Array<{ runId: string; before: unknown; after: Values }>;
    expect(versions.map((x) => [x.runId, x.after.cases])).toEqual([
      [A, 10],
      [B, 15],
      [C, 16],
    ]);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: config.tables.data,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'DAY#2020-03-01' },
    });
  });

  it('diffs a run from the versionsByRun index across pages, largest change first, and --limit', async () => {
    // Prepare
    const all = deps();
    const top = deps();
    const text = deps();

    // Act
    await diffCommand(B, { env: 'dev', json: true }, all.deps);
    await diffCommand(B, { env: 'dev', json: true, limit: '1' }, top.deps);
    await diffCommand(B, { env: 'dev' }, text.deps);

    // Assess
    expect(JSON.parse(all.stdout())).toEqual([
      { date: '2020-03-02', change: 'updated', before: v(20), after: v(120) },
      { date: '2020-03-04', change: 'inserted', before: null, after: v(40) },
      { date: '2020-03-01', change: 'updated', before: v(10), after: v(15, 1) },
    ]);
    expect(JSON.parse(top.stdout())).toHaveLength(1);
    expect(text.stdout()).toContain('2020-03-02  updated  cases 20 → 120 (+100)');
    expect(text.stdout()).toMatch(/^ {2}2020-03-04 {2}inserted cases 40, /m); // the kind of change named once
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'versionsByRun',
      ExpressionAttributeValues: { ':run': B },
    });
  });

  it('refuses to sort more days of states and counties than fit in memory, before reading any, and lists the largest with --limit', async () => {
    // Prepare: a full county backfill's summary (3,583,800 days inserted); one of its versions stored.
    const E = 's-20261127T060000Z';
    const at = '2026-11-27T06:01:00.000Z';
    const counts = { inserted: 3_583_800, updated: 0, unchanged: 0, rejected: 0 };
    tables.putRun(
      runItem(E, {
        status: 'SUCCEEDED',
        startedAt: '2026-11-27T06:00:00.000Z',
        months: [],
        summary: {
          runId: E,
          environment: 'dev',
          status: 'SUCCEEDED',
          trigger: 'manual',
          startedAt: '2026-11-27T06:00:00.000Z',
          counts,
          levels: { county: counts },
          dateRange: null,
          sources: [],
          chunks: { expected: 2_035, loaded: 2_035, skipped: 0 },
          rejectedRows: [],
        },
      }),
    );
    geoChange(E, at, '48201', '2021-03-01', null, { cases: 90, deaths: 2 });
    const [json, all, many, top] = [deps(), deps(), deps(), deps()];
    const queriesBefore = ddb.commandCalls(QueryCommand).length;

    // Act
    const refusals = await Promise.allSettled([
      diffCommand(E, { env: 'dev', json: true }, json.deps),
      diffCommand(E, { env: 'dev', limit: 'all' }, all.deps),
      diffCommand(E, { env: 'dev', limit: '2000000' }, many.deps),
    ]);
    const queriesRefused = ddb.commandCalls(QueryCommand).length - queriesBefore;
    await diffCommand(E, { env: 'dev', json: true, limit: '5' }, top.deps);

    // Assess
    const message =
      `Run ${E} changed 3,583,800 days of states and counties, more than the 1,000,000 etl diff ` +
      'sorts in memory: use --limit <n> (the n largest of each level)';
    expect(
      refusals.map((refusal) => (refusal.status === 'rejected' ? String(refusal.reason.message) : 'done')),
    ).toEqual([message, message, message]);
    expect(queriesRefused).toBe(0);
    expect(JSON.parse(top.stdout())).toEqual([
      {
        geo: '48201',
        level: 'county',
        date: '2021-03-01',
        change: 'inserted',
        before: null,
        after: { cases: 90, deaths: 2 },
      },
    ]);
  });

  it('diffs a run that changed only counties and states: one group per level, largest first, --limit per level', async () => {
    // Prepare: run D changed two counties' days and three states' days, and no day of the nation.
    const D = 's-20261126T060000Z';
    const at = '2026-11-26T06:01:00.000Z';
    tables.putRun(runItem(D, { status: 'SUCCEEDED', startedAt: '2026-11-26T06:00:00.000Z', months: [] }));
    geoChange(D, at, '48201', '2021-03-01', { cases: 100, deaths: 2 }, { cases: 90, deaths: 2 });
    geoChange(D, at, '72001', '2021-03-01', null, { cases: 5, deaths: null });
    geoChange(D, at, '48', '2021-03-01', { cases: 1_000, deaths: 20 }, { cases: 1_001, deaths: 20 });
    geoChange(D, at, '06', '2021-03-02', { cases: 7_000, deaths: null }, { cases: 7_000, deaths: 30 });
    geoChange(D, at, '06', '2021-03-01', null, { cases: 6_000, deaths: 25 });
    const [all, top, text, limited] = [deps(), deps(), deps(), deps()];

    // Act
    await diffCommand(D, { env: 'dev', json: true }, all.deps);
    await diffCommand(D, { env: 'dev', json: true, limit: '1' }, top.deps);
    await diffCommand(D, { env: 'dev' }, text.deps);
    await diffCommand(D, { env: 'dev', limit: '1' }, limited.deps);

    // Assess: the states' rows, then the counties', each largest change first; geo and level on each.
    expect(JSON.parse(all.stdout())).toEqual([
      {
        geo: '06',
        level: 'state',
        date: '2021-03-01',
        change: 'inserted',
        before: null,
        after: { cases: 6_000, deaths: 25 },
      },
      {
        geo: '06',
        level: 'state',
        date: '2021-03-02',
        change: 'updated',
        before: { cases: 7_000, deaths: null },
        after: { cases: 7_000, deaths: 30 },
      },
      {
        geo: '48',
        level: 'state',
        date: '2021-03-01',
        change: 'updated',
        before: { cases: 1_000, deaths: 20 },
        after: { cases: 1_001, deaths: 20 },
      },
      {
        geo: '48201',
        level: 'county',
        date: '2021-03-01',
        change: 'updated',
        before: { cases: 100, deaths: 2 },
        after: { cases: 90, deaths: 2 },
      },
      {
        geo: '72001',
        level: 'county',
        date: '2021-03-01',
        change: 'inserted',
        before: null,
        after: { cases: 5, deaths: null },
      },
    ]);
    expect(JSON.parse(top.stdout()).map((row: { geo: string }) => row.geo)).toEqual(['06', '48201']);
    expect(text.stdout().trimEnd().split('\n')).toEqual([
      `Run ${D} (manual, SUCCEEDED): 5 day(s) changed: nation 0, state 3, county 2`,
      'States: 3 day(s) changed: 1 inserted, 2 updated',
      '  06  2021-03-01  inserted cases 6,000, deaths 25',
      '  06  2021-03-02  updated  deaths not reported → 30',
      '  48  2021-03-01  updated  cases 1,000 → 1,001 (+1)',
      'Counties: 2 day(s) changed: 1 inserted, 1 updated',
      '  48201  2021-03-01  updated  cases 100 → 90 (-10)',
      '  72001  2021-03-01  inserted cases 5, deaths not reported',
    ]);
    expect(limited.stdout()).toContain(
      '  06  2021-03-01  inserted cases 6,000, deaths 25\n  … and 2 more (--limit <n> or --limit all)\n',
    );
    expect(limited.stdout()).toContain(
      '  48201  2021-03-01  updated  cases 100 → 90 (-10)\n  … and 1 more (--limit <n> or --limit all)',
    );
  });

  it('exports the series as it stood right after a run (the later runs undone)', async () => {
    // Prepare
    const afterA = deps();
    const afterB = deps();

    // Act
    await exportCommand({ env: 'dev', format: 'csv', asOf: A }, afterA.deps);
    await exportCommand({ env: 'dev', format: 'csv', asOf: B, from: '2020-03-02' }, afterB.deps);

    // Assess
    expect(afterA.stdout().trim().split('\n')).toEqual([
      'date,cases,deaths,recovered',
      '2020-03-01,10,0,0',
      '2020-03-02,20,0,0',
      '2020-03-03,30,0,0',
    ]);
    expect(afterB.stdout().trim().split('\n')).toEqual([
      'date,cases,deaths,recovered',
      '2020-03-02,120,0,0',
      '2020-03-03,30,0,0',
      '2020-03-04,40,0,0',
    ]);
  });

  it('refuses to revert a run whose days a later run changed, naming them', async () => {
    // Prepare
    const { deps: d } = deps();

    // Act
    const refused = revertCommand(B, { env: 'dev', yes: true }, d);

    // Assess
    await expect(refused).rejects.toThrow(`1 of its day(s) were changed by a later run since: 2020-03-01 (${C})`);
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('reverts the last run: a revert run in the ledger and its chunks on the loader queue', async () => {
    // Prepare: the "loader" finishes the revert run once its chunk arrives.
    const sent: (LoadChunkMessage | GeoChunkMessage)[] = [];
    const revert = revertRunId(C);
    finishRevertOnSend(revert, sent, '2026-11-26T00:00:00.000Z');
    const { deps: d, stdout, stderr } = deps();

    // Act
    const code = await revertCommand(C, { env: 'dev', yes: true, json: true }, d);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ runId: C, revertRunId: revert, status: 'SUCCEEDED' });
    // How far the sending is, on stderr (no planning line: the run changed no state or county day).
    expect(stderr()).toContain('\r\x1b[2K  1 / 1 chunks and parts sent');
    expect(stderr()).not.toContain('planning:');
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: config.tables.ledger,
      Item: expect.objectContaining({
        runId: revert,
        trigger: 'revert',
        months: ['2020-03'],
        note: `revert of run ${C}`,
      }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: config.queues.loader.url });
    expect(sent).toEqual([
      expect.objectContaining({
        runId: revert,
        month: '2020-03',
        records: [{ date: '2020-03-01', ...v(15, 1) }],
        removed: [],
      }),
    ]);
  });

  it('reverts the nation and the counties of a run: geo parts on the loader queue, counted per level; a run of counties alone too', async () => {
    // Prepare: C also inserted and revised days of Harris County (48201), whose version items
    // share the versionsByRun index (vdate `<date>#48201`); D, later, changed one other county day only.
    const D = 's-20261126T060000Z';
    const county = (runId: string, date: string, before: { cases: number; runId: string } | null) => {
      const at = '2026-11-25T06:02:00.000Z';
      const kind = before ? 'updated' : 'inserted';
      tables.put({ pk: '48201', sk: date, geo: '48201', date, cases: 5, runId, change: kind, updatedAt: at, before });
      tables.put({
        pk: `DAY#48201#${date}`,
        sk: `${at}#${runId}`,
        vrun: runId,
        vdate: `${date}#48201`,
        geo: '48201',
        date,
        cases: 5,
        runId,
        change: kind,
        updatedAt: at,
        before,
      });
    };
    county(C, '2020-03-05', null);
    county(C, '2020-03-01', { cases: 4, runId: B });
    tables.putRun(
      runItem(D, { status: 'SUCCEEDED', startedAt: '2026-11-26T06:00:00.000Z', months: ['county/48/2020-03#06-06'] }),
    );
    county(D, '2020-03-06', null);
    answerBatchGets();
    const sent: (LoadChunkMessage | GeoChunkMessage)[] = [];
    const ids: string[] = [];
    const revert = revertRunId(C);
    finishRevertOnSend(revert, sent, '2026-11-27T00:00:00.000Z', ids);
    const { deps: d, stdout, stderr } = deps();

    // Act
    const code = await revertCommand(C, { env: 'dev', yes: true, json: true }, d);

    // Assess: the nation's day and the county's two days go back (one restored, one removed).
    expect(code).toBe(0);
    expect(sent).toEqual([
      expect.objectContaining({ month: '2020-03', records: [{ date: '2020-03-01', ...v(15, 1) }], removed: [] }),
      expect.objectContaining({
        runId: revert,
        level: 'county',
        chunk: 'county/48/2020-03',
        part: 'county/48/2020-03#01-05',
        baseline: true,
        days: [{ date: '2020-03-01', hash: expect.stringMatching(/^[0-9a-f]{64}$/) }],
        records: [{ geo: '48201', date: '2020-03-01', cases: 4, deaths: null, line: 1 }],
        removed: [{ geo: '48201', date: '2020-03-05' }],
      }),
    ]);
    // SQS batch entry ids: letters, digits, - and _ only.
    expect(ids).toEqual(['2020_03', 'county_48_2020_03_01-05']);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: config.tables.ledger,
      Item: expect.objectContaining({ runId: revert, months: ['2020-03', 'county/48/2020-03#01-05'] }),
    });
    const json = JSON.parse(stdout()) as Record<string, unknown>;
    expect(json).toMatchObject({
      revertRunId: revert,
      restored: {
        nation: { restored: 1, removed: 0 },
        state: { restored: 0, removed: 0 },
        county: { restored: 1, removed: 1 },
      },
    });
    expect(json).not.toHaveProperty('notReverted');
    expect(stderr()).toContain('nation 1 day(s) back, 0 removed; county 1 day(s) back, 1 removed');

    // Act: the run that changed only a county day is reverted as well.
    const sentD: (LoadChunkMessage | GeoChunkMessage)[] = [];
    finishRevertOnSend(revertRunId(D), sentD, '2026-11-27T01:00:00.000Z');
    const onlyCounties = await revertCommand(D, { env: 'dev', yes: true }, deps().deps);

    // Assess
    expect(onlyCounties).toBe(0);
    expect(sentD).toEqual([
      expect.objectContaining({
        part: 'county/48/2020-03#06-06',
        records: [],
        removed: [{ geo: '48201', date: '2020-03-06' }],
      }),
    ]);
  });

  it('refuses to revert a run whose county day a later run changed, naming the geography', async () => {
    // Prepare: B inserted a Harris County day, C updated it.
    for (const [runId, before] of [
      [B, null],
      [C, { cases: 5, runId: B }],
    ] as const) {
      const at = runId === B ? '2026-11-24T06:02:00.000Z' : '2026-11-25T06:02:00.000Z';
      tables.put({
        pk: '48201',
        sk: '2020-03-09',
        geo: '48201',
        date: '2020-03-09',
        cases: 6,
        runId,
        updatedAt: at,
        before,
      });
      tables.put({
        pk: 'DAY#48201#2020-03-09',
        sk: `${at}#${runId}`,
        vrun: runId,
        vdate: '2020-03-09#48201',
        geo: '48201',
        date: '2020-03-09',
        cases: 6,
        runId,
        change: before ? 'updated' : 'inserted',
        updatedAt: at,
        before,
      });
    }
    answerBatchGets();

    // Act
    const refused = revertCommand(B, { env: 'dev', yes: true }, deps().deps);

    // Assess: the nation's day and the county's, each with the run that changed it since.
    await expect(refused).rejects.toThrow(
      `2 of its day(s) were changed by a later run since: 2020-03-01 (${C}), 48201 2020-03-09 (${C})`,
    );
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('resumes an interrupted revert (same run, chunks sent again) and does nothing once it finished', async () => {
    // Prepare: the revert run exists, dispatched, but its chunks never reached the loader.
    const revert = revertRunId(C);
    tables.putRun(
      runItem(revert, {
        trigger: 'revert',
        status: 'RUNNING',
        dispatch: 'SENT',
        startedAt: '2026-11-26T00:00:00.000Z',
      }),
    );
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      tables.putRun(runItem(revert, { trigger: 'revert', status: 'SUCCEEDED', startedAt: '2026-11-26T00:00:00.000Z' }));
      return {
        Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
        Failed: [],
      };
    });
    const first = deps();
    const second = deps();

    // Act
    const resumed = await revertCommand(C, { env: 'dev', yes: true, json: true }, first.deps);
    const again = await revertCommand(C, { env: 'dev', yes: true }, second.deps);

    // Assess
    expect([resumed, again]).toEqual([0, 0]);
    expect(JSON.parse(first.stdout())).toMatchObject({ revertRunId: revert, status: 'SUCCEEDED' });
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(second.stdout()).toContain(`Run ${C} was already reverted by run ${revert} (SUCCEEDED): nothing to do`);
  });
});
