import { readFileSync } from 'node:fs';
import {
  type ExpectedRecord,
  expectedSeries,
  type SourceServer,
  sharedDataAvailable,
  snapshotPath,
  startSourceServer,
} from '@covid-etl/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { emailSubject, freshStateDir, outbox, queueMessages, runCli } from './helpers/cli.js';

/**
 * End to end on the embedded local stack: the real `etl` command, spawned like `pnpm etl`,
 * runs the pipeline on the real snapshots with a handler made to fail, then `etl dlq list`,
 * `peek` and `replay` (without the fault) finish the run.
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

let server: SourceServer;

beforeAll(async () => {
  server = await startSourceServer();
  server.set('/nyt.csv', { file: snapshotPath('nytFinal') });
  server.set('/jhu.csv', { file: snapshotPath('jhuFinal') });
});

afterAll(async () => {
  await server.close();
});

async function cli(dir: string, args: string[], env: Record<string, string> = {}) {
  const result = await runCli(args, { ETL_LOCAL_DIR: dir, ETL_FAULTS: '', ...env });
  let json: unknown;
  try {
    json = args.includes('--json') ? JSON.parse(result.stdout) : undefined;
  } catch {
    throw new Error(`etl ${args.join(' ')} printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { ...result, json };
}

async function failingRun(dir: string, faults: string) {
  const result = await cli(
    dir,
    ['run', '--json', '--nyt-url', server.url('/nyt.csv'), '--jhu-url', server.url('/jhu.csv')],
    {
      ETL_FAULTS: faults,
    },
  );
  return { ...result, run: result.json as { runId: string; status: string } };
}

async function exported(dir: string): Promise<ExpectedRecord[]> {
  const result = await cli(dir, ['export', '--json']);
  expect(result.code).toBe(0);
  return result.json as ExpectedRecord[];
}

/** Run id and status of each outbox email, from its first body line ("covid-etl run <id>: <status>"). */
function mails(dir: string): Array<{ runId: string; status: string; subject: string }> {
  return outbox(dir).map((file) => {
    const body = readFileSync(file, 'utf8').split(/\r?\n\r?\n/)[1] ?? '';
    const [, runId = '', status = ''] = /^covid-etl run (\S+): (\S+)/m.exec(body) ?? [];
    return { runId, status, subject: emailSubject(file) };
  });
}

interface PeekJson {
  queue: string;
  depth: number;
  messages: Array<{
    runId: string;
    month: string;
    receiveCount: number;
    firstReceivedAt: string | null;
    lastError: { stage: string; message: string } | null;
  }>;
}

describeReal('etl dlq on the local stack', () => {
  const clean = () => expectedSeries(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));

  it.each([
    ['loader', 'load'],
    ['transformer', 'transform'],
  ])(
    'lists, peeks and replays the %s DLQ: the INCOMPLETE run ends SUCCEEDED with the clean table and one success email',
    async (service, stage) => {
      // Prepare: a run whose handler always fails parks every chunk in the DLQ.
      const dir = freshStateDir('etl-ops-');
      const failed = await failingRun(dir, `${service}=fail`);
      const dlq = `covid-etl-local-${service}-dlq`;
      expect(failed.code).toBe(4);
      expect(failed.run.status).toBe('INCOMPLETE');
      expect(queueMessages(dir, dlq)).toHaveLength(39);
      expect(mails(dir)).toEqual([expect.objectContaining({ runId: failed.run.runId, status: 'INCOMPLETE' })]);

      // Act
      const list = await cli(dir, ['dlq', 'list', '--json']);
      const peek = await cli(dir, ['dlq', 'peek', service, '--json', '--max', '100']);
      const replay = await cli(dir, ['dlq', 'replay', service, '--yes', '--json']);
      const status = await cli(dir, ['status', failed.run.runId, '--json']);

      // Assess: the list and the peek show the parked chunks with the recorded error.
      expect(list.json).toEqual(
        expect.arrayContaining([expect.objectContaining({ key: service, name: dlq, messages: 39, inFlight: 0 })]),
      );
      const peeked = peek.json as PeekJson;
      expect(peeked.depth).toBe(39);
      expect(peeked.messages).toHaveLength(39);
      for (const message of peeked.messages) {
        expect(message.runId).toBe(failed.run.runId);
        expect(message.receiveCount).toBe(5);
        expect(message.firstReceivedAt).not.toBeNull();
        expect(message.lastError).toMatchObject({ stage, message: expect.stringMatching(/InjectedFaultError/) });
      }
      expect(new Set(peeked.messages.map((m) => m.month)).size).toBe(39);
      // The peek consumed nothing (the replay moves all 39); the run finishes; the table equals a
      // clean run's (e2e-run.test.ts proves a clean run loads expectedSeries); one success email follows.
      expect(replay.code).toBe(0);
      expect(replay.json).toMatchObject({ moved: 39, runs: [{ runId: failed.run.runId, status: 'SUCCEEDED' }] });
      expect(queueMessages(dir, dlq)).toHaveLength(0);
      expect(status.json).toMatchObject({ status: 'SUCCEEDED', chunks: { expected: 39, loaded: 39, pending: 0 } });
      // Its costs are real requests: 39 chunks received 5 times by the failing service, then once
      // after the replay, and once by the other; 2 messages sent per chunk (the replay moves,
      // it does not send); 2 outcome events (INCOMPLETE, then SUCCEEDED).
      expect(status.json).toMatchObject({
        costs: { sqsMessagesReceived: 39 * 7, sqsMessagesSent: 78, eventsPut: 2 },
      });
      expect(await exported(dir)).toEqual(clean());
      const sent = mails(dir);
      expect(sent).toHaveLength(2);
      expect(sent[1]).toMatchObject({ runId: failed.run.runId, status: 'SUCCEEDED' });
      expect(sent[1]?.subject).toMatch(/420 new, 0 updated$/);
    },
  );

  it('replays only the given run with --run when the loader DLQ holds two runs', async () => {
    // Prepare: two failing runs park 39 chunks each.
    const dir = freshStateDir('etl-ops-');
    const first = await failingRun(dir, 'loader=fail');
    const second = await failingRun(dir, 'loader=fail');
    const dlq = 'covid-etl-local-loader-dlq';
    const runsIn = () => queueMessages(dir, dlq).map((m) => (JSON.parse(m.body) as { runId: string }).runId);
    expect(runsIn().filter((id) => id === first.run.runId)).toHaveLength(39);
    expect(runsIn().filter((id) => id === second.run.runId)).toHaveLength(39);

    // Act
    const dryRun = await cli(dir, ['dlq', 'replay', 'loader', '--run', first.run.runId, '--dry-run', '--json']);
    const replay = await cli(dir, ['dlq', 'replay', 'loader', '--run', first.run.runId, '--yes', '--json']);
    const runs = await cli(dir, ['runs', '--json']);

    // Assess
    expect(dryRun.json).toMatchObject({
      dryRun: true,
      wouldMove: 39,
      runs: [{ runId: first.run.runId, messages: 39 }],
    });
    expect(replay.code).toBe(0);
    expect(replay.json).toMatchObject({ moved: 39, left: 39, runs: [{ runId: first.run.runId, status: 'SUCCEEDED' }] });
    expect(runsIn()).toEqual(Array(39).fill(second.run.runId));
    expect(runs.json).toEqual([
      expect.objectContaining({ runId: second.run.runId, status: 'INCOMPLETE', deadLetterQueues: [dlq] }),
      expect.objectContaining({ runId: first.run.runId, status: 'SUCCEEDED', deadLetterQueues: [] }),
    ]);
    expect(await exported(dir)).toEqual(clean());
    expect(mails(dir).map((m) => [m.runId, m.status])).toEqual([
      [first.run.runId, 'INCOMPLETE'],
      [second.run.runId, 'INCOMPLETE'],
      [first.run.runId, 'SUCCEEDED'],
    ]);
  });
});

describe('etl dlq without a run', () => {
  it('refuses an unknown queue and an unknown environment, naming the known ones', async () => {
    // Prepare
    const dir = freshStateDir('etl-ops-');
    // Act
    const queue = await cli(dir, ['dlq', 'peek', 'fetcher']);
    const env = await cli(dir, ['dlq', 'list', '--env', 'staging']);
    // Assess
    expect(queue.code).toBe(1);
    expect(queue.stderr).toMatch(/No dead-letter queue "fetcher" in local: use one of transformer, loader, notifier/);
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/Unknown environment "staging": known environments are local\b/);
  });

  it('says that a schedule DLQ exists only in a deployed environment', async () => {
    // Prepare
    const dir = freshStateDir('etl-ops-');
    // Act
    const replay = await cli(dir, ['dlq', 'replay', 'counties-backfill-schedule']);
    // Assess
    expect(replay.code).toBe(1);
    expect(replay.stderr.trim()).toMatch(
      /^error: counties_backfill_schedule exists only in a deployed environment \(the local stack has no schedules, event rule or async invocations\): add --env <environment>$/m,
    );
  });
});

describe('etl on the supported Node.js', () => {
  it('prints no runtime warning on stderr: the AWS SDK has no Node-version notice to give', async () => {
    // Prepare
    const dir = freshStateDir('etl-ops-');
    // Act
    const result = await cli(dir, ['dlq', 'list', '--json']);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/Warning/);
  });
});
