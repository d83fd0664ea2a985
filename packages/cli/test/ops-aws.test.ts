import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { exportCommand, runsCommand, statusCommand } from '../src/commands/data.js';
import { decideCommand } from '../src/commands/trust.js';
import type { AwsOperatorBackend } from '../src/ops/aws-backend.js';
import { type OperatorConfig, parseOperatorConfig } from '../src/ops/config.js';
import { type CommandDeps, dlqListCommand, dlqPeekCommand, dlqReplayCommand } from '../src/ops/dlq.js';
import { resolveOperatorConfig } from '../src/ops/environments.js';
import { runDeployedCommand } from '../src/ops/run-deployed.js';
import { testAwsBackend } from './ops-helpers/aws-backend.js';
import { chunkBody, chunkItem, FakeTables, runItem } from './ops-helpers/fake-ledger.js';
import { allQueueUrls, captureOutput, FakeSqs, operatorConfig } from './ops-helpers/fake-sqs.js';

/**
 * The AWS side of every operator command, against aws-sdk-client-mock: the exact calls, and
 * fakes of SQS and the ledger behind the mocks so that where each message ends up can be
 * asserted.
 */
const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const ssm = mockClient(SSMClient);
const ddb = mockClient(DynamoDBDocumentClient);

const REGION = 'us-east-1';
let config: OperatorConfig;
let fake: FakeSqs;
let tables: FakeTables;

function wireFakes(): void {
  sqs.on(ReceiveMessageCommand).callsFake(fake.receive);
  sqs.on(SendMessageCommand).callsFake(fake.send);
  sqs.on(DeleteMessageCommand).callsFake(fake.delete);
  sqs.on(ChangeMessageVisibilityBatchCommand).callsFake(fake.changeVisibility);
  sqs.on(GetQueueAttributesCommand).callsFake(fake.attributes);
  ddb.on(GetCommand).callsFake(tables.get);
  ddb.on(QueryCommand).callsFake(tables.query);
}

function setUp(environment = 'dev'): void {
  config = operatorConfig(environment);
  fake = new FakeSqs(allQueueUrls(config));
  tables = new FakeTables();
  wireFakes();
}

function backend(): AwsOperatorBackend {
  return testAwsBackend(config, () => fake.now);
}

function deps(extra: Partial<CommandDeps> = {}) {
  const captured = captureOutput();
  const value: CommandDeps = {
    out: captured.out,
    open: async () => backend(),
    sleep: async () => undefined,
    pollMs: 0,
    prompt: { interactive: false, ask: async () => 'n' },
    ...extra,
  };
  return { deps: value, ...captured };
}

const dlqUrl = (key: 'transformer' | 'loader' | 'notifier') => config.queues[key].dlq_url;
const sqsCalls = () =>
  sqs.calls().map((call) => {
    const command = call.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
    return { name: command.constructor.name.replace(/Command$/, ''), input: command.input };
  });
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

beforeEach(() => {
  sqs.reset();
  lambda.reset();
  ssm.reset();
  ddb.reset();
  setUp();
});

afterAll(() => {
  sqs.restore();
  lambda.restore();
  ssm.restore();
  ddb.restore();
});

describe('resolving a deployed environment', () => {
  const repo = (initialised: boolean) => {
    const root = mkdtempSync(path.join(tmpdir(), 'etl-ops-repo-'));
    for (const env of ['dev', 'prod']) {
      mkdirSync(path.join(root, 'terraform', 'environments', env, initialised ? '.terraform' : ''), {
        recursive: true,
      });
    }
    return root;
  };
  const parameter = (value: unknown) => ({
    Parameter: { Name: '/covid-etl/dev/operator-config', Value: JSON.stringify(value) },
  });

  it('uses terraform output -json operator_config when the root is initialised', async () => {
    // Prepare
    const seen: string[] = [];
    // Act
    const resolved = await resolveOperatorConfig('dev', {
      repoRoot: repo(true),
      env: {},
      terraformOutput: async (dir) => {
        seen.push(dir);
        return { ok: true, stdout: JSON.stringify(config) };
      },
      ssmClient: () => new SSMClient({ region: REGION }),
    });
    // Assess
    expect(resolved.source).toBe('terraform output');
    expect(resolved.config.queues.loader.dlq_arn).toBe(config.queues.loader.dlq_arn);
    expect(seen[0]).toMatch(/terraform\/environments\/dev$/);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });

  it('falls back to the SSM parameter /covid-etl/<env>/operator-config when terraform output fails', async () => {
    // Prepare
    ssm.on(GetParameterCommand, { Name: '/covid-etl/dev/operator-config' }).resolves(parameter(config));
    const regions: Array<string | undefined> = [];
    // Act
    const resolved = await resolveOperatorConfig('dev', {
      repoRoot: repo(true),
      env: { AWS_REGION: 'us-east-1' },
      terraformOutput: async () => ({ ok: false, reason: 'Error: No outputs found' }),
      ssmClient: (region) => {
        regions.push(region);
        return new SSMClient({ region: region ?? REGION });
      },
    });
    // Assess
    expect(resolved.source).toBe('SSM /covid-etl/dev/operator-config (us-east-1)');
    expect(resolved.config.functions.fetcher).toBe('covid-etl-dev-fetcher');
    expect(regions).toEqual(['us-east-1']);
  });

  it('refuses an unknown environment, listing the known ones', async () => {
    // Act
    const resolving = resolveOperatorConfig('staging', { repoRoot: repo(false), env: {} });
    // Assess
    await expect(resolving).rejects.toThrow(
      'Unknown environment "staging": known environments are local, dev, prod (local, and the folders under terraform/environments)',
    );
  });

  it('says how to provide credentials when the chain finds none', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      );
    // Act
    const resolving = resolveOperatorConfig('dev', {
      repoRoot: repo(false),
      env: { AWS_REGION: REGION },
      ssmClient: () => new SSMClient({ region: REGION }),
    });
    // Assess
    await expect(resolving).rejects.toThrow(/^No AWS credentials found: set AWS_PROFILE/);
  });

  it('names the action and the parameter when access is denied', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(
      Object.assign(
        new Error('User: arn:aws:iam::123456789012:user/x is not authorized to perform: ssm:GetParameter'),
        {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        },
      ),
    );
    // Act
    const resolving = resolveOperatorConfig('dev', {
      repoRoot: repo(false),
      env: { AWS_REGION: REGION },
      ssmClient: () => new SSMClient({ region: REGION }),
    });
    // Assess
    await expect(resolving).rejects.toThrow(/^Access denied: ssm:GetParameter on \/covid-etl\/dev\/operator-config/);
  });

  it('explains both failures when neither terraform nor SSM knows the environment', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    // Act
    const resolving = resolveOperatorConfig('prod', {
      repoRoot: repo(false),
      env: { AWS_REGION: REGION },
      ssmClient: () => new SSMClient({ region: REGION }),
    });
    // Assess
    await expect(resolving).rejects.toThrow(
      /No resources found for environment prod: terraform output failed \(terraform\/environments\/prod is not initialised.*the SSM parameter \/covid-etl\/prod\/operator-config does not exist in us-east-1/,
    );
  });
});

describe('operator configuration: replay_to', () => {
  it('refuses a replay_to that names no queue or function of the configuration, in one line', () => {
    // Prepare
    const given = operatorConfig('dev');
    const typo = { ...given.dead_letter_queues?.fetcher_schedule, replay_to: 'function:fetchr' };
    // Act
    const parse = (replayTo: unknown) =>
      parseOperatorConfig(
        {
          ...given,
          dead_letter_queues: { ...given.dead_letter_queues, fetcher_schedule: { ...typo, replay_to: replayTo } },
        },
        'terraform output operator_config of dev',
      );
    // Assess
    expect(() => parse('function:fetchr')).toThrow(
      'terraform output operator_config of dev: dead_letter_queues.fetcher_schedule.replay_to "function:fetchr" names no queue or function of the configuration (expected queue:<key>, function:<key> or record)',
    );
    expect(() => parse('queue:dashboard')).toThrow(/replay_to "queue:dashboard" names no queue or function/);
    expect(parse('function:fetcher').dead_letter_queues?.fetcher_schedule?.replay_to).toBe('function:fetcher');
    expect(parse('record').dead_letter_queues?.fetcher_schedule?.replay_to).toBe('record');
  });
});

describe('etl run --env dev', () => {
  it('invokes the fetcher synchronously with {"trigger":"manual"} and, with --wait, follows the run to its end', async () => {
    // Prepare
    const runId = 'm-20261125T120000Z-abcdef';
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: payload({ runId, joined: false, status: 'RUNNING', chunks: 2 }) });
    tables.putRun(runItem(runId));
    tables.putChunk(chunkItem(runId, '2020-01'));
    tables.putChunk(chunkItem(runId, '2020-02'));
    let polls = 0;
    const sleep = async () => {
      polls += 1;
      if (polls === 1)
        tables.putChunk(
          chunkItem(runId, '2020-01', { stage: 'LOADED', counts: { inserted: 10, updated: 0, unchanged: 0 } }),
        );
      if (polls === 2) {
        tables.putChunk(
          chunkItem(runId, '2020-02', { stage: 'LOADED', counts: { inserted: 5, updated: 0, unchanged: 0 } }),
        );
        tables.putRun(runItem(runId, { status: 'SUCCEEDED', finishedAt: '2026-11-25T11:05:00.000Z' }));
      }
    };
    const { deps: d, json, stderr } = deps({ sleep });
    // Act
    const code = await runDeployedCommand({ env: 'dev', wait: true, json: true }, d);
    // Assess
    expect(code).toBe(0);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('covid-etl-dev-fetcher');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(new TextDecoder().decode(input?.Payload as Uint8Array)).toBe('{"trigger":"manual"}');
    expect(json()).toMatchObject({ runId, status: 'SUCCEEDED', chunks: { expected: 2, loaded: 2, pending: 0 } });
    // The same top-level keys as a local `etl run --json`.
    expect(Object.keys(json() as object)).toEqual(
      expect.arrayContaining(['runId', 'status', 'inserted', 'updated', 'unchanged', 'rejected']),
    );
    expect(stderr()).toMatch(/0\/2 chunks loaded/);
    expect(stderr()).toMatch(/1\/2 chunks loaded/);
  });

  it('passes --levels, --backfill and the states / counties URLs into the fetcher payload; refuses a non-https URL', async () => {
    // Prepare
    const runId = 'm-20261125T120000Z-000002';
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: payload({ runId, joined: false, status: 'RUNNING', chunks: 2 }) });
    tables.putRun(runItem(runId));
    const { deps: d } = deps();
    // Act
    const code = await runDeployedCommand(
      {
        env: 'dev',
        statesUrl: 'https://example.org/us-states.csv',
        countiesUrl: 'https://example.org/us-counties.csv',
        geo: { levels: ['state', 'county'], backfill: 'counties' },
      },
      d,
    );
    // Assess
    expect(code).toBe(0);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      trigger: 'manual',
      sources: { states: 'https://example.org/us-states.csv', counties: 'https://example.org/us-counties.csv' },
      levels: ['state', 'county'],
      backfill: 'counties',
    });
    await expect(runDeployedCommand({ env: 'dev', countiesRecentUrl: 'file:///tmp/x.csv' }, d)).rejects.toThrow(
      'file:///tmp/x.csv: a deployed environment downloads from https URLs only',
    );
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it('reports a FunctionError of the fetcher with its message', async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'ConfigurationError', errorMessage: 'Environment variable NYT_URL is required' }),
    });
    const { deps: d } = deps();
    // Act
    const running = runDeployedCommand({ env: 'dev' }, d);
    // Assess
    await expect(running).rejects.toThrow(
      'covid-etl-dev-fetcher failed: ConfigurationError: Environment variable NYT_URL is required',
    );
  });

  it('retries a throttled invocation and does not invoke twice otherwise', async () => {
    // Prepare
    const runId = 'm-20261125T120000Z-000001';
    lambda
      .on(InvokeCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }))
      .resolves({ StatusCode: 200, Payload: payload({ runId, joined: false, status: 'RUNNING', chunks: 2 }) });
    tables.putRun(runItem(runId));
    const { deps: d, json } = deps();
    // Act
    const code = await runDeployedCommand({ env: 'dev', json: true }, d);
    // Assess
    expect(code).toBe(0);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 2);
    expect(json()).toMatchObject({ runId, status: 'RUNNING' });
  });
});

describe('etl runs / status --env dev', () => {
  it('lists runs newest first across DynamoDB pages, with chunks and the DLQ holding parked chunks', async () => {
    // Prepare: three runs, two per page.
    tables.putRun(runItem('m-1', { startedAt: '2026-11-23T00:00:00.000Z', status: 'SUCCEEDED' }));
    tables.putRun(runItem('m-2', { startedAt: '2026-11-24T00:00:00.000Z', status: 'INCOMPLETE' }));
    tables.putRun(runItem('m-3', { startedAt: '2026-11-25T00:00:00.000Z', status: 'RUNNING' }));
    tables.putChunk(chunkItem('m-2', '2020-01', { stage: 'LOADED' }));
    tables.putChunk(chunkItem('m-2', '2020-02', { stage: 'TRANSFORMED' }));
    fake.put(dlqUrl('loader'), chunkBody('m-2', '2020-02'));
    const { deps: d, json } = deps();
    // Act
    const code = await runsCommand({ env: 'dev', limit: '20', json: true }, d);
    // Assess
    expect(code).toBe(0);
    const runs = json() as Array<{
      runId: string;
      stage: string;
      chunks: { loaded: number };
      deadLetterQueues: string[];
    }>;
    expect(runs.map((r) => r.runId)).toEqual(['m-3', 'm-2', 'm-1']);
    expect(runs[1]).toMatchObject({
      stage: 'load',
      chunks: { loaded: 1 },
      deadLetterQueues: ['covid-etl-dev-loader-dlq'],
    });
    const queries = ddb.commandCalls(QueryCommand).filter((c) => c.args[0].input.IndexName === 'byStartedAt');
    expect(queries).toHaveLength(2);
    expect(queries[1]?.args[0].input.ExclusiveStartKey).toEqual({ pk: 'RUN#m-2', sk: 'RUN' });
  });

  it('shows a run with its pending chunks, their last error and DLQ, and every rejected row', async () => {
    // Prepare
    const runId = 'm-20261125T110000Z-aaaaaa';
    tables.putRun(
      runItem(runId, {
        status: 'INCOMPLETE',
        failure: { reason: 'stalled: 1 of 2 chunk(s) not loaded', stage: 'stalled' },
        costs: {
          dynamoReadRequests: 3,
          dynamoWriteRequests: 4,
          sqsMessagesSent: 2,
          sqsSendRequests: 1,
          bytesDownloaded: 4_200_000,
        },
      }),
    );
    tables.putChunk(
      chunkItem(runId, '2020-01', {
        stage: 'LOADED',
        costs: {
          dynamoReadRequests: 2,
          dynamoWriteRequests: 30,
          dynamoWriteUnits: 30,
          sqsMessagesSent: 1,
          sqsSendRequests: 1,
          sqsMessagesReceived: 2,
        },
        counts: { inserted: 9, updated: 1, unchanged: 0 },
        rejected: [{ source: 'nyt', line: 12, column: 'cases', reason: 'cases "-5" is negative' }],
      }),
    );
    tables.putChunk(
      chunkItem(runId, '2020-02', {
        stage: 'TRANSFORMED',
        lastError: {
          stage: 'load',
          message: 'ProvisionedThroughputExceededException: slow down',
          at: '2026-11-25T11:01:00Z',
          receiveCount: 5,
        },
        costs: { dynamoWriteRequests: 5, sqsMessagesReceived: 5 },
      }),
    );
    fake.put(dlqUrl('loader'), chunkBody(runId, '2020-02'));
    const { deps: d, stdout } = deps();
    // Act
    const code = await statusCommand(runId, { env: 'dev' }, d);
    // Assess
    expect(code).toBe(0);
    expect(stdout()).toContain(`Run ${runId}: INCOMPLETE (stage: load)`);
    expect(stdout()).toContain('9 inserted, 1 updated, 0 unchanged, 1 rejected');
    expect(stdout()).toMatch(
      /pending {4}2020-02 awaiting load, covid-etl-dev-loader-dlq; last error \(load, .*receive 5\): ProvisionedThroughput/,
    );
    expect(stdout()).toContain('nyt line 12 cases: cases "-5" is negative');
    // What the unfinished run cost so far: the run item's and every chunk's, failed attempts included.
    expect(stdout()).toContain(
      'costs      DynamoDB 5 reads (0 RCU), 39 writes (30 WCU); SQS 3 messages sent (2 requests), 7 received; 0 events; 4.2 MB downloaded',
    );
    expect(stdout()).toContain(`pnpm etl dlq replay covid-etl-dev-loader-dlq --run ${runId} --env dev`);
    // The DLQ was only looked at: the message is still there and visible.
    expect(fake.queue(dlqUrl('loader'))[0]?.visibleAt).toBeLessThanOrEqual(fake.now);
  });

  it("lists a HELD run's states and counties from the GATES# pages, bounded in text, every one in --json", async () => {
    // Prepare: 30 counties tripped, kept over several ledger items (pages of 2 in the fake).
    const runId = 's-20210318T000000Z';
    tables.putRun(
      runItem(runId, {
        status: 'HELD',
        months: [],
        failure: { reason: 'Held: the snapshot tripped 1 data-quality gate(s): counties …', stage: 'gates' },
        gates: [{ gate: 'cumulative-fall', message: 'counties (us-counties.csv): … in 30 counties: …; and 27 more' }],
      }),
    );
    const trips = Array.from({ length: 30 }, (_, i) => ({
      gate: 'cumulative-fall' as const,
      level: 'county' as const,
      geo: String(48_001 + 2 * i),
      message: `County ${i}, TX (${48_001 + 2 * i}): cases ${(1_000 * (i + 2)).toLocaleString('en-US')} on 2021-03-17 → 1 on 2021-03-18`,
    }));
    trips.forEach((trip, page) => {
      tables.put({ pk: `RUN#${runId}`, sk: `GATES#${String(page).padStart(4, '0')}`, runId, trips: [trip] });
    });
    const text = deps();
    const json = deps();

    // Act
    const code = await statusCommand(runId, { env: 'dev' }, text.deps);
    await statusCommand(runId, { env: 'dev', json: true }, json.deps);

    // Assess: the 20 largest falls, then the way to see the rest in the same environment.
    expect(code).toBe(0);
    const lines = text.stdout().split('\n');
    const header = lines.indexOf('  trips      cumulative-fall (counties): 30 counties, largest fall first');
    expect(header).toBeGreaterThan(lines.findIndex((line) => line.startsWith('  gate       cumulative-fall: ')));
    expect(lines[header + 1]).toBe('    County 29, TX (48059): cases 31,000 on 2021-03-17 → 1 on 2021-03-18');
    expect(lines[header + 20]).toBe('    County 10, TX (48021): cases 12,000 on 2021-03-17 → 1 on 2021-03-18');
    expect(lines[header + 21]).toBe(`    … and 10 more: pnpm etl status ${runId} --trips all --env dev`);
    expect(lines[header + 22]).toBe(`  decide     pnpm etl approve ${runId} --env dev  (load exactly this snapshot)`);
    const report = JSON.parse(json.stdout()) as { geoTrips: typeof trips };
    expect(report.geoTrips).toEqual([...trips].reverse());
    const tripQueries = ddb
      .commandCalls(QueryCommand)
      .filter((call) => call.args[0].input.ExpressionAttributeValues?.[':prefix'] === 'GATES#');
    expect(tripQueries.length).toBe(2 * 15);
  });

  it('shows the tripped states and counties before asking to approve in prod, and changes nothing when refused', async () => {
    // Prepare
    setUp('prod');
    const runId = 's-20210318T000000Z';
    tables.putRun(
      runItem(runId, {
        environment: 'prod',
        status: 'HELD',
        months: [],
        gates: [{ gate: 'revised-down', message: 'states (us-states.csv): … in 1 state: Ohio (39): …' }],
      }),
    );
    tables.put({
      pk: `RUN#${runId}`,
      sk: 'GATES#0000',
      runId,
      trips: [
        {
          gate: 'revised-down',
          level: 'state',
          geo: '39',
          message: 'Ohio (39): cases on 2021-02-05 104,000 → 50,000',
        },
      ],
    });
    const seen: { stderr: string; question: string }[] = [];
    const captured = deps();
    const no = {
      interactive: true,
      ask: async (question: string) => {
        seen.push({ stderr: captured.stderr(), question });
        return 'n';
      },
    };

    // Act
    const refused = decideCommand('approve', runId, { env: 'prod' }, { ...captured.deps, prompt: no });

    // Assess: the gate and its state on stderr before the question; nothing invoked.
    await expect(refused).rejects.toThrow('Not confirmed: nothing was done');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.stderr.split('\n')).toEqual([
      `Run ${runId} is HELD:`,
      '  gate       revised-down: states (us-states.csv): … in 1 state: Ohio (39): …',
      '  trips      revised-down (states): 1 state, largest revision first',
      '    Ohio (39): cases on 2021-02-05 104,000 → 50,000',
      '',
    ]);
    expect(seen[0]?.question).toMatch(
      /^Load the snapshot held by s-20210318T000000Z into prod despite its gates \(revised-down\)\?/,
    );
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 0);
  });

  it('exports the series across pages of the data table', async () => {
    // Prepare
    tables.putDay('2020-01-22', { cases: 1, deaths: 0, recovered: 0 });
    tables.putDay('2020-01-23', { cases: 2, deaths: 0, recovered: 0 });
    tables.putDay('2020-01-24', { cases: 3, deaths: 1, recovered: 0 });
    const { deps: d, stdout } = deps();
    // Act
    await exportCommand({ env: 'dev', format: 'csv' }, d);
    // Assess
    expect(stdout().trim().split('\n')).toEqual([
      'date,cases,deaths,recovered',
      '2020-01-22,1,0,0',
      '2020-01-23,2,0,0',
      '2020-01-24,3,1,0',
    ]);
  });
});

describe('etl dlq list / peek --env dev', () => {
  it('lists every DLQ with its depth and the age of its oldest message, sampled and handed back', async () => {
    // Prepare
    fake.put(dlqUrl('loader'), chunkBody('m-1', '2020-01'), { sent: fake.now - 3_600_000 });
    fake.put(dlqUrl('loader'), chunkBody('m-1', '2020-02'), { sent: fake.now - 60_000 });
    const { deps: d, json } = deps();
    // Act
    const code = await dlqListCommand({ env: 'dev', json: true }, d);
    // Assess
    expect(code).toBe(0);
    const rows = json() as Array<{ key: string; name: string; messages: number; oldestAgeMs: number | null }>;
    expect(rows.map((r) => r.key)).toEqual([
      'transformer',
      'loader',
      'notifier',
      'events',
      'fetcher_schedule',
      'watchdog_schedule',
      'async',
      'counties_backfill_schedule',
    ]);
    expect(rows[1]).toMatchObject({ name: 'covid-etl-dev-loader-dlq', messages: 2, oldestAgeMs: 3_600_000 });
    expect(rows[0]).toMatchObject({ messages: 0, oldestAgeMs: null });
    expect(sqs).toHaveReceivedCommandTimes(GetQueueAttributesCommand, 8);
    expect(sqs).toHaveReceivedCommandWith(ReceiveMessageCommand, { QueueUrl: dlqUrl('loader'), VisibilityTimeout: 5 });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
      QueueUrl: dlqUrl('loader'),
      Entries: [expect.objectContaining({ VisibilityTimeout: 0 }), expect.objectContaining({ VisibilityTimeout: 0 })],
    });
    expect(fake.queue(dlqUrl('loader')).every((m) => m.visibleAt <= fake.now)).toBe(true);
  });

  it('says, in the text for people, that a sampled age is not the exact figure', async () => {
    // Prepare
    fake.put(dlqUrl('loader'), chunkBody('m-1', '2020-01'), { sent: fake.now - 3_600_000 });
    const { deps: d, stdout } = deps();
    // Act
    const code = await dlqListCommand({ env: 'dev' }, d);
    // Assess
    expect(code).toBe(0);
    expect(stdout()).toMatch(/covid-etl-dev-loader-dlq +1 +0 /);
    expect(stdout()).toContain("CloudWatch's ApproximateAgeOfOldestMessage (the alarms) is the exact figure.");
  });

  it('peeks with a short visibility timeout, hands the messages back, and shows the recorded error', async () => {
    // Prepare
    const runId = 'm-20261125T110000Z-bbbbbb';
    tables.putChunk(
      chunkItem(runId, '2020-03', {
        stage: 'TRANSFORMED',
        lastError: {
          stage: 'load',
          message: 'TransientError: DynamoDB timed out',
          at: '2026-11-25T11:02:00Z',
          receiveCount: 5,
        },
      }),
    );
    fake.put(dlqUrl('loader'), chunkBody(runId, '2020-03'), { receiveCount: 5 });
    const { deps: d, json } = deps();
    // Act
    const code = await dlqPeekCommand('loader', { env: 'dev', json: true, max: '5' }, d);
    // Assess
    expect(code).toBe(0);
    expect(sqs).toHaveReceivedCommandWith(ReceiveMessageCommand, {
      QueueUrl: dlqUrl('loader'),
      VisibilityTimeout: 10,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    });
    expect(json()).toMatchObject({
      queue: 'covid-etl-dev-loader-dlq',
      messages: [
        {
          runId,
          month: '2020-03',
          receiveCount: 5,
          firstReceivedAt: new Date(fake.now - 59_000).toISOString(),
          lastError: { stage: 'load', message: 'TransientError: DynamoDB timed out' },
        },
      ],
    });
    const [message] = fake.queue(dlqUrl('loader'));
    expect(message?.visibleAt).toBeLessThanOrEqual(fake.now);
  });

  it('retries throttled SQS calls, and says so clearly when throttling lasts', async () => {
    // Prepare
    const throttled = () => Object.assign(new Error('Request is throttled'), { name: 'RequestThrottled' });
    sqs.on(GetQueueAttributesCommand).rejectsOnce(throttled()).callsFake(fake.attributes);
    const { deps: d } = deps();
    // Act
    const code = await dlqListCommand({ env: 'dev', json: true }, d);
    sqs.on(GetQueueAttributesCommand).rejects(throttled());
    const failing = dlqListCommand({ env: 'dev', json: true }, deps().deps);
    // Assess
    expect(code).toBe(0);
    await expect(failing).rejects.toThrow(
      /^AWS throttled sqs:GetQueueAttributes on covid-etl-dev-transformer-dlq 4 times in a row: wait a minute/,
    );
  });
});

describe('etl dlq replay --env dev (SQS message move task)', () => {
  const arn = () => config.queues.loader.dlq_arn;

  it('starts StartMessageMoveTask on the DLQ ARN at the given rate and polls ListMessageMoveTasks to completion', async () => {
    // Prepare
    for (const month of ['2020-01', '2020-02', '2020-03']) fake.put(dlqUrl('loader'), chunkBody('m-1', month));
    tables.putRun(runItem('m-1', { status: 'INCOMPLETE', months: ['2020-01', '2020-02', '2020-03'] }));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolvesOnce({
        Results: [
          {
            TaskHandle: 'task-1',
            Status: 'RUNNING',
            ApproximateNumberOfMessagesMoved: 0,
            ApproximateNumberOfMessagesToMove: 3,
          },
        ],
      })
      .resolvesOnce({
        Results: [
          {
            TaskHandle: 'task-1',
            Status: 'RUNNING',
            ApproximateNumberOfMessagesMoved: 2,
            ApproximateNumberOfMessagesToMove: 3,
          },
        ],
      })
      .resolves({
        Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 }],
      });
    const { deps: d, json, stderr } = deps();
    // Act
    const code = await dlqReplayCommand('loader', { env: 'dev', rate: '50', yes: true, json: true }, d);
    // Assess
    expect(code).toBe(0);
    const start = sqs.commandCalls(StartMessageMoveTaskCommand);
    expect(start).toHaveLength(1);
    expect(start[0]?.args[0].input).toEqual({ SourceArn: arn(), MaxNumberOfMessagesPerSecond: 50 });
    expect(sqs).toHaveReceivedCommandTimes(ListMessageMoveTasksCommand, 4);
    expect(sqs).toHaveReceivedCommandWith(ListMessageMoveTasksCommand, { SourceArn: arn(), MaxResults: 1 });
    expect(json()).toMatchObject({
      mode: 'move-task',
      moved: 3,
      task: { status: 'COMPLETED' },
      runs: [{ runId: 'm-1' }],
    });
    expect(stderr()).toMatch(/RUNNING, 2 \/ 3 moved/);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 0);
  });

  it('follows a move task that is already running instead of starting another', async () => {
    // Prepare
    fake.put(dlqUrl('loader'), chunkBody('m-1', '2020-01'));
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [
          {
            TaskHandle: 'task-0',
            Status: 'RUNNING',
            ApproximateNumberOfMessagesMoved: 4,
            ApproximateNumberOfMessagesToMove: 9,
            StartedTimestamp: 1_795_000_000_000,
          },
        ],
      })
      .resolves({
        Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 9, ApproximateNumberOfMessagesToMove: 9 }],
      });
    const { deps: d, stderr, json } = deps();
    // Act
    const code = await dlqReplayCommand('loader', { env: 'dev', yes: true, json: true }, d);
    // Assess
    expect(code).toBe(0);
    expect(stderr()).toMatch(
      /A move task is already running on covid-etl-dev-loader-dlq .*4 \/ 9 moved.*: following it/,
    );
    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 0);
    expect(json()).toMatchObject({ moved: 9, task: { status: 'COMPLETED' } });
  });

  it('cancels the running task with its handle (--cancel)', async () => {
    // Prepare
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [
          {
            TaskHandle: 'task-7',
            Status: 'RUNNING',
            ApproximateNumberOfMessagesMoved: 1,
            ApproximateNumberOfMessagesToMove: 5,
          },
        ],
      })
      .resolvesOnce({ Results: [{ TaskHandle: 'task-7', Status: 'CANCELLING', ApproximateNumberOfMessagesMoved: 2 }] })
      .resolves({
        Results: [{ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: 2, ApproximateNumberOfMessagesToMove: 5 }],
      });
    sqs.on(CancelMessageMoveTaskCommand).resolves({ ApproximateNumberOfMessagesMoved: 2 });
    const { deps: d, json } = deps();
    // Act
    const code = await dlqReplayCommand('loader', { env: 'dev', cancel: true, json: true }, d);
    // Assess
    expect(code).toBe(0);
    expect(sqs).toHaveReceivedCommandWith(CancelMessageMoveTaskCommand, { TaskHandle: 'task-7' });
    expect(json()).toMatchObject({ mode: 'cancel', task: { status: 'CANCELLED', moved: 2 } });
  });

  it('says clearly that there is nothing to cancel', async () => {
    // Prepare
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3 }] });
    // Act
    const cancelling = dlqReplayCommand('loader', { env: 'dev', cancel: true }, deps().deps);
    // Assess
    await expect(cancelling).rejects.toThrow(
      'No move task is running on covid-etl-dev-loader-dlq (the last one is COMPLETED, 3 moved)',
    );
    expect(sqs).toHaveReceivedCommandTimes(CancelMessageMoveTaskCommand, 0);
  });

  it('names the action and the queue when StartMessageMoveTask is denied', async () => {
    // Prepare
    fake.put(dlqUrl('loader'), chunkBody('m-1', '2020-01'));
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    sqs.on(StartMessageMoveTaskCommand).rejects(
      Object.assign(new Error('not authorized to perform: sqs:StartMessageMoveTask'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    // Act
    const replaying = dlqReplayCommand('loader', { env: 'dev', yes: true }, deps().deps);
    // Assess
    await expect(replaying).rejects.toThrow(
      /^Access denied: sqs:StartMessageMoveTask on covid-etl-dev-loader-dlq \(AccessDenied: not authorized/,
    );
    expect(fake.queue(dlqUrl('loader'))).toHaveLength(1);
  });

  it('shows what would move and moves nothing with --dry-run', async () => {
    // Prepare
    fake.put(dlqUrl('loader'), chunkBody('m-1', '2020-01'));
    fake.put(dlqUrl('loader'), chunkBody('m-2', '2020-01'));
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    const { deps: d, stdout } = deps();
    // Act
    const code = await dlqReplayCommand('loader', { env: 'dev', dryRun: true }, d);
    // Assess
    expect(code).toBe(0);
    expect(stdout()).toContain(
      'Would replay 2 message(s) from covid-etl-dev-loader-dlq to covid-etl-dev-loader with an SQS message move task',
    );
    expect(stdout()).toContain('run m-1: 1 message(s) (2020-01)');
    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 0);
    expect(sqs).toHaveReceivedCommandTimes(DeleteMessageCommand, 0);
    expect(fake.queue(dlqUrl('loader'))).toHaveLength(2);
  });

  it('asks in prod, and refuses without a terminal unless --yes', async () => {
    // Prepare
    setUp('prod');
    fake.put(dlqUrl('loader'), chunkBody('m-1', '2020-01'));
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1 }] });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 't' });
    const questions: string[] = [];
    const yes = {
      interactive: true,
      ask: async (question: string) => {
        questions.push(question);
        return 'y';
      },
    };
    // Act
    const refused = dlqReplayCommand('loader', { env: 'prod' }, deps().deps);
    await expect(refused).rejects.toThrow(
      'Refusing to replay covid-etl-prod-loader-dlq in prod without confirmation: there is no terminal to ask on. Add --yes to confirm.',
    );
    const startsBefore = sqs.commandCalls(StartMessageMoveTaskCommand).length;
    const code = await dlqReplayCommand('loader', { env: 'prod' }, deps({ prompt: yes }).deps);
    // Assess
    expect(startsBefore).toBe(0);
    expect(code).toBe(0);
    expect(questions[0]).toMatch(
      /^Replay 1 message\(s\) from covid-etl-prod-loader-dlq to covid-etl-prod-loader in prod\?/,
    );
    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 1);
  });
});

describe('etl dlq replay --run <runId> --env dev (receive, send, delete)', () => {
  const source = () => config.queues.loader.url;
  const attributes = { traceparent: { DataType: 'String', StringValue: '00-abc-def-01' } };

  it("moves only that run's messages, each sent with the same body and attributes before it is deleted", async () => {
    // Prepare
    const mine = ['2020-01', '2020-02', '2020-03'].map((month) =>
      fake.put(dlqUrl('loader'), chunkBody('m-A', month), { attributes }),
    );
    const theirs = ['2020-01', '2020-02'].map((month) => fake.put(dlqUrl('loader'), chunkBody('m-B', month)));
    tables.putRun(runItem('m-A', { status: 'INCOMPLETE', months: ['2020-01', '2020-02', '2020-03'] }));
    const { deps: d, json } = deps();
    // Act
    const code = await dlqReplayCommand('loader', { env: 'dev', run: 'm-A', yes: true, json: true }, d);
    // Assess
    expect(code).toBe(0);
    expect(json()).toMatchObject({
      mode: 'one-by-one',
      moved: 3,
      left: 2,
      runs: [{ runId: 'm-A', status: 'INCOMPLETE' }],
    });
    expect(fake.bodies(source()).sort()).toEqual(mine.map((m) => m.body).sort());
    expect(fake.queue(source()).every((m) => m.attributes.traceparent?.StringValue === '00-abc-def-01')).toBe(true);
    expect(fake.bodies(dlqUrl('loader')).sort()).toEqual(theirs.map((m) => m.body).sort());
    expect(fake.queue(dlqUrl('loader')).every((m) => m.visibleAt <= fake.now)).toBe(true);
    // Order: for every moved message, its SendMessage comes before its DeleteMessage.
    const calls = sqsCalls();
    for (const message of mine) {
      const sent = calls.findIndex((c) => c.name === 'SendMessage' && c.input.MessageBody === message.body);
      const deleted = calls.findIndex((c) => c.name === 'DeleteMessage' && c.input.ReceiptHandle === message.handle);
      expect(sent).toBeGreaterThan(-1);
      expect(deleted).toBeGreaterThan(sent);
    }
    expect(calls.filter((c) => c.name === 'SendMessage').every((c) => c.input.QueueUrl === source())).toBe(true);
    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 0);
  });

  it('loses no message when the process dies between a send and its delete', async () => {
    // Prepare: the second DeleteMessage never happens (the process dies), nor any call after it.
    const messages = ['2020-01', '2020-02', '2020-03', '2020-04'].map((month) =>
      fake.put(dlqUrl('loader'), chunkBody('m-A', month)),
    );
    let deletes = 0;
    let dead = false;
    const dying =
      <I, O>(fn: (input: I) => O) =>
      (input: I) => {
        if (dead) throw new Error('process is dead');
        return fn(input);
      };
    sqs.on(DeleteMessageCommand).callsFake((input) => {
      deletes += 1;
      if (deletes === 2) {
        dead = true;
        throw Object.assign(new Error('killed'), { name: 'ProcessKilled' });
      }
      return fake.delete(input);
    });
    sqs.on(ReceiveMessageCommand).callsFake(dying(fake.receive));
    sqs.on(SendMessageCommand).callsFake(dying(fake.send));
    sqs.on(ChangeMessageVisibilityBatchCommand).callsFake(dying(fake.changeVisibility));
    // Act
    const replaying = dlqReplayCommand('loader', { env: 'dev', run: 'm-A', yes: true }, deps().deps);
    // Assess
    await expect(replaying).rejects.toThrow(/killed/);
    for (const message of messages) {
      const inDlq = fake.bodies(dlqUrl('loader')).includes(message.body);
      const inSource = fake.bodies(source()).includes(message.body);
      expect({ month: JSON.parse(message.body).month, kept: inDlq || inSource }).toEqual({
        month: JSON.parse(message.body).month,
        kept: true,
      });
    }
    // The message whose delete died is in both places (a duplicate, which the pipeline absorbs).
    expect(fake.bodies(source())).toHaveLength(2);
    expect(fake.bodies(dlqUrl('loader'))).toHaveLength(3);
  });

  it('replays the events DLQ one by one to the notifier queue (SQS cannot redrive it)', async () => {
    // Prepare
    const event = JSON.stringify({
      'detail-type': 'EtlRunCompleted',
      source: 'covid-etl.pipeline',
      detail: { summary: { runId: 'm-E' } },
    });
    const events = config.dead_letter_queues?.events?.url ?? '';
    fake.put(events, event, { attributes: { ERROR_CODE: { DataType: 'String', StringValue: 'SQSError' } } });
    // Act
    const code = await dlqReplayCommand('events', { env: 'dev', yes: true }, deps().deps);
    // Assess
    expect(code).toBe(0);
    expect(fake.bodies(config.queues.notifier.url)).toEqual([event]);
    expect(fake.bodies(events)).toEqual([]);
    expect(sqs).toHaveReceivedCommandTimes(StartMessageMoveTaskCommand, 0);
  });

  it("replays the fetcher schedule DLQ by invoking the fetcher with the schedule's input", async () => {
    // Prepare
    const input = JSON.stringify({ trigger: 'schedule', scheduledTime: '2026-11-25T00:00:00Z' });
    const url = config.dead_letter_queues?.fetcher_schedule?.url ?? '';
    fake.put(url, input);
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ runId: 's-20261125T000000Z', joined: false, status: 'RUNNING', chunks: 3 }),
    });
    const { deps: d, json } = deps();
    // Act
    const code = await dlqReplayCommand('fetcher-schedule', { env: 'dev', yes: true, json: true }, d);
    // Assess
    expect(code).toBe(0);
    const call = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(call?.FunctionName).toBe('covid-etl-dev-fetcher');
    expect(new TextDecoder().decode(call?.Payload as Uint8Array)).toBe(input);
    expect(fake.bodies(url)).toEqual([]);
    expect(json()).toMatchObject({ moved: 1, runs: [{ runId: 's-20261125T000000Z' }] });
  });

  it("replays the counties backfill schedule DLQ by invoking the fetcher with the backfill's input", async () => {
    // Prepare
    const input = JSON.stringify({ trigger: 'schedule', backfill: 'counties', scheduledTime: '2026-11-01T06:00:00Z' });
    const url = config.dead_letter_queues?.counties_backfill_schedule?.url ?? '';
    fake.put(url, input, { attributes: { ERROR_CODE: { DataType: 'String', StringValue: 'ThrottlingException' } } });
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({ runId: 's-20261101T060000Z-counties', joined: false, status: 'RUNNING', chunks: 3123 }),
    });
    const { deps: d, json } = deps();
    // Act
    const code = await dlqReplayCommand('counties-backfill-schedule', { env: 'dev', yes: true, json: true }, d);
    // Assess
    expect(code).toBe(0);
    const call = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(call?.FunctionName).toBe('covid-etl-dev-fetcher');
    expect(new TextDecoder().decode(call?.Payload as Uint8Array)).toBe(input);
    expect(fake.bodies(url)).toEqual([]);
    expect(json()).toMatchObject({ mode: 'one-by-one', moved: 1, runs: [{ runId: 's-20261101T060000Z-counties' }] });
  });

  it('replays the counties backfill DLQ of a deployment whose configuration predates replay_to', async () => {
    // Prepare
    for (const queue of Object.values(config.dead_letter_queues ?? {})) delete queue.replay_to;
    const input = JSON.stringify({ trigger: 'schedule', backfill: 'counties', scheduledTime: '2026-11-01T06:00:00Z' });
    const url = config.dead_letter_queues?.counties_backfill_schedule?.url ?? '';
    fake.put(url, input);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ runId: 's-20261101T060000Z-counties' }) });
    // Act
    const code = await dlqReplayCommand('counties_backfill_schedule', { env: 'dev', yes: true }, deps().deps);
    // Assess
    expect(code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.FunctionName).toBe('covid-etl-dev-fetcher');
    expect(fake.bodies(url)).toEqual([]);
  });

  it('replays a DLQ the CLI has never heard of to where its replay_to points', async () => {
    // Prepare: a DLQ a later Terraform adds (a new schedule of the watchdog, say)
    const name = 'covid-etl-dev-nightly-check-schedule-dlq';
    const url = `https://sqs.${REGION}.amazonaws.com/123456789012/${name}`;
    config.dead_letter_queues = {
      ...config.dead_letter_queues,
      nightly_check_schedule: {
        url,
        arn: `arn:aws:sqs:${REGION}:123456789012:${name}`,
        replay_to: 'function:watchdog',
      },
    };
    fake = new FakeSqs(allQueueUrls(config));
    wireFakes();
    const input = JSON.stringify({ trigger: 'schedule', scheduledTime: '2026-11-25T03:00:00Z' });
    fake.put(url, input);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ checked: 0 }) });
    const { deps: listDeps, json } = deps();
    // Act
    await dlqListCommand({ env: 'dev', json: true }, listDeps);
    const code = await dlqReplayCommand('nightly-check-schedule', { env: 'dev', yes: true }, deps().deps);
    // Assess
    expect(json()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'nightly_check_schedule', replaysTo: 'invoke covid-etl-dev-watchdog' }),
      ]),
    );
    expect(code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.FunctionName).toBe('covid-etl-dev-watchdog');
    expect(fake.bodies(url)).toEqual([]);
  });
});
