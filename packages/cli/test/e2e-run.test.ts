import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
 * End to end: the real `etl run` command against the real snapshots served by a local HTTP
 * server, on the embedded local stack (dynalite, persisted queues, event bus, topic outbox).
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

interface RunJson {
  runId: string;
  status: string;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  rejectedRows: Array<{ source: string; line: number; column?: string; reason: string }>;
  pendingChunks: Array<{ month: string; stage: string; lastError?: string }>;
  failure?: { reason: string };
  emails: string[];
}

let server: SourceServer;

async function run(dir: string, env: Record<string, string> = {}) {
  const result = await runCli(
    ['run', '--json', '--nyt-url', server.url('/nyt.csv'), '--jhu-url', server.url('/jhu.csv')],
    {
      ETL_LOCAL_DIR: dir,
      ...env,
    },
  );
  let json: RunJson;
  try {
    json = JSON.parse(result.stdout) as RunJson;
  } catch {
    throw new Error(`etl run printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { ...result, json };
}

async function exported(dir: string): Promise<ExpectedRecord[]> {
  const result = await runCli(['export', '--format', 'json'], { ETL_LOCAL_DIR: dir });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ExpectedRecord[];
}

const serve = (nyt: string, jhu: string) => {
  server.set('/nyt.csv', { file: nyt });
  server.set('/jhu.csv', { file: jhu });
};

beforeAll(async () => {
  server = await startSourceServer();
});

afterAll(async () => {
  await server.close();
});

describeReal('etl run on the real snapshots', () => {
  const full = () => expectedSeries(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));

  it('loads everything, then a second run on the same files writes nothing (conditional requests)', async () => {
    // Prepare
    const dir = freshStateDir();
    serve(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));
    // Act
    const first = await run(dir);
    const requestsBefore = server.requests.length;
    const second = await run(dir);
    // Assess
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ status: 'SUCCEEDED', inserted: 420, updated: 0, unchanged: 0, rejected: 0 });
    expect(await exported(dir)).toEqual(full());
    expect(second.code).toBe(0);
    expect(second.json).toMatchObject({ status: 'SUCCEEDED', inserted: 0, updated: 0, rejected: 0 });
    const conditional = server.requests.slice(requestsBefore);
    expect(conditional.map((r) => r.status)).toEqual([304, 304]);
    expect(conditional.every((r) => r.ifNoneMatch)).toBe(true);
    const mails = outbox(dir);
    expect(mails).toHaveLength(2);
    expect(emailSubject(mails[0] as string)).toMatch(/^\[covid-etl local\] Run \d{4}-\d{2}-\d{2}: 420 new, 0 updated$/);
    expect(emailSubject(mails[1] as string)).toMatch(/no changes/);
    // Each run reports its own cost drivers: in `etl status` and in the email footer.
    const status = await runCli(['status', first.json.runId], { ETL_LOCAL_DIR: dir });
    const bytes = statSync(snapshotPath('nytFinal')).size + statSync(snapshotPath('jhuFinal')).size;
    const mb = `${(bytes / 1_000_000).toFixed(1)} MB downloaded`;
    expect(status.stdout).toMatch(
      /\n {2}costs {6}DynamoDB \d[\d,]* reads .*; SQS 78 messages sent .*, 78 received; 1 event; /,
    );
    expect(status.stdout).toContain(mb);
    // The .eml is quoted-printable: long lines are soft-wrapped with "=" at the line end.
    const body = (file: string) => readFileSync(file, 'utf8').replace(/=\r?\n/g, '');
    expect(body(mails[0] as string)).toMatch(new RegExp(`\nCost drivers: DynamoDB .*; 1 event; ${mb}`));
    expect(body(mails[1] as string)).toContain('; 1 event; nothing downloaded');
  });

  it('counts the changed and new days of a newer snapshot exactly (revised past values)', async () => {
    // Prepare: the publisher revised past days between the two NYT snapshots.
    const dir = freshStateDir();
    const jhu = snapshotPath('jhuWithLatLong');
    const before = expectedSeries(snapshotPath('nytEarly'), jhu);
    const after = expectedSeries(snapshotPath('nytNext'), jhu);
    const old = new Map(before.map((r) => [r.date, r]));
    const expected = { inserted: 0, updated: 0, unchanged: 0 };
    for (const record of after) {
      const previous = old.get(record.date);
      if (!previous) expected.inserted += 1;
      else if (previous.cases !== record.cases || previous.deaths !== record.deaths) expected.updated += 1;
      else expected.unchanged += 1;
    }
    expect(expected.updated).toBeGreaterThan(0);
    serve(snapshotPath('nytEarly'), jhu);
    const first = await run(dir);
    serve(snapshotPath('nytNext'), jhu);
    // Act
    const second = await run(dir);
    // Assess
    expect(first.json).toMatchObject({ status: 'SUCCEEDED', inserted: before.length });
    expect(second.json).toMatchObject({ status: 'SUCCEEDED', ...expected, rejected: 0 });
    expect(await exported(dir)).toEqual(after);
    expect(outbox(dir)).toHaveLength(2);
    expect(emailSubject(outbox(dir)[1] as string)).toContain(`${expected.inserted} new, ${expected.updated} updated`);
  });

  it.each([
    ['loader=crash-mid-batch'],
    ['transformer=crash-mid-batch'],
    ['transformer=fail-first,loader=fail-first'],
    ['notifier=fail-first'],
  ])('keeps exact counts and a correct table with ETL_FAULTS=%s', async (faults) => {
    // Prepare
    const dir = freshStateDir();
    serve(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));
    // Act
    const result = await run(dir, { ETL_FAULTS: faults });
    // Assess
    expect(result.json).toMatchObject({ status: 'SUCCEEDED', inserted: 420, updated: 0, unchanged: 0, rejected: 0 });
    expect(await exported(dir)).toEqual(full());
    expect(outbox(dir)).toHaveLength(1);
    expect(queueMessages(dir, 'covid-etl-local-loader-dlq')).toHaveLength(0);
    expect(queueMessages(dir, 'covid-etl-local-transformer-dlq')).toHaveLength(0);
  });

  it('leaves a run INCOMPLETE with its chunks in the loader DLQ and one failure email when the loader always fails', async () => {
    // Prepare
    const dir = freshStateDir();
    serve(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));
    // Act
    const result = await run(dir, { ETL_FAULTS: 'loader=fail' });
    // Assess
    expect(result.code).toBe(4);
    expect(result.json.status).toBe('INCOMPLETE');
    expect(result.json.inserted).toBe(0);
    const parked = queueMessages(dir, 'covid-etl-local-loader-dlq');
    expect(parked).toHaveLength(39);
    expect(parked.every((m) => JSON.parse(m.body).runId === result.json.runId)).toBe(true);
    expect(result.json.pendingChunks).toHaveLength(39);
    expect(result.json.pendingChunks[0]?.lastError).toMatch(/InjectedFaultError/);
    expect(result.json.failure?.reason).toMatch(
      /39 of 39 chunk\(s\) parked in a dead-letter queue: 2020-01 to 2023-03 \(39 months\) in covid-etl-local-loader-dlq \(last error: InjectedFaultError.*Replay with: pnpm etl dlq replay loader$/,
    );
    const mails = outbox(dir);
    expect(mails).toHaveLength(1);
    expect(emailSubject(mails[0] as string)).toMatch(/INCOMPLETE/);
    expect(await exported(dir)).toEqual([]);
  });
});

describeReal('etl run on malformed data', () => {
  it('fails a run whose source is structurally unusable before writing any data', async () => {
    // Prepare: NYT renamed its "deaths" column.
    const dir = freshStateDir();
    const broken = readFileSync(snapshotPath('nytEarly'), 'utf8').replace(/^date,cases,deaths/, 'date,cases,death');
    server.set('/nyt.csv', { body: broken });
    server.set('/jhu.csv', { file: snapshotPath('jhuWithLatLong') });
    // Act
    const result = await run(dir);
    // Assess
    expect(result.code).toBe(2);
    expect(result.json.status).toBe('FAILED');
    expect(result.json.failure?.reason).toMatch(/nyt line 1: required column "deaths" is missing/);
    expect(await exported(dir)).toEqual([]);
    const mails = outbox(dir);
    expect(mails).toHaveLength(1);
    expect(emailSubject(mails[0] as string)).toMatch(/FAILED: nyt line 1/);
  });

  it('fails on an HTML error page served instead of the CSV', async () => {
    // Prepare
    const dir = freshStateDir();
    server.set('/nyt.csv', { body: '<!DOCTYPE html><html><body>Rate limited</body></html>', contentType: 'text/html' });
    server.set('/jhu.csv', { file: snapshotPath('jhuWithLatLong') });
    // Act
    const result = await run(dir);
    // Assess
    expect(result.json.status).toBe('FAILED');
    expect(result.json.failure?.reason).toMatch(/nyt/i);
    expect(outbox(dir)).toHaveLength(1);
  });

  it('rejects bad rows with their line numbers and reasons, and loads the rest (PARTIAL)', async () => {
    // Prepare: line 10 gets a negative count, line 20 an impossible date, line 30 repeats line 29's date.
    const dir = freshStateDir();
    const original = readFileSync(snapshotPath('nytEarly'), 'utf8').split('\n');
    const cells = (n: number) => (original[n - 1] as string).split(',');
    const lines = [...original];
    lines[9] = `${cells(10)[0]},-5,${cells(10)[2]}`;
    lines[19] = `2020-02-30,${cells(20)[1]},${cells(20)[2]}`;
    lines[29] = `${cells(29)[0]},${cells(30)[1]},${cells(30)[2]}`;
    const file = path.join(tmpdir(), `nyt-bad-${process.pid}.csv`);
    writeFileSync(file, lines.join('\n'));
    server.set('/nyt.csv', { file });
    server.set('/jhu.csv', { file: snapshotPath('jhuWithLatLong') });
    const lost = new Set([cells(10)[0], cells(20)[0], cells(30)[0]]);
    const expected = expectedSeries(snapshotPath('nytEarly'), snapshotPath('jhuWithLatLong')).filter(
      (record) => !lost.has(record.date),
    );
    // Act
    const result = await run(dir);
    // Assess
    expect(result.code).toBe(3);
    expect(result.json.status).toBe('PARTIAL');
    expect(result.json.rejected).toBe(3);
    expect(result.json.rejectedRows.map((r) => [r.source, r.line, r.column])).toEqual([
      ['nyt', 10, 'cases'],
      ['nyt', 20, 'date'],
      ['nyt', 30, 'date'],
    ]);
    expect(result.json.rejectedRows[0]?.reason).toMatch(/-5/);
    expect(result.json.rejectedRows[2]?.reason).toMatch(/line 29/);
    expect(await exported(dir)).toEqual(expected);
    expect(outbox(dir)).toHaveLength(1);
    expect(emailSubject(outbox(dir)[0] as string)).toMatch(/PARTIAL/);
  });
});

describe('etl run without the network', () => {
  it('fails within seconds when a source cannot be reached, saying how to use local files', async () => {
    // Prepare: nothing listens on port 9 of the loopback address.
    const dir = freshStateDir();
    // Act
    const result = await runCli(
      ['run', '--nyt-url', 'http://127.0.0.1:9/us.csv', '--jhu-url', 'http://127.0.0.1:9/jhu.csv'],
      { ETL_LOCAL_DIR: dir },
    );
    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/FAILED/);
    expect(result.stdout).toMatch(/could not download http:\/\/127\.0\.0\.1:9\/us\.csv/);
    expect(result.stdout).toMatch(/--nyt-url path\/to\/us\.csv/);
    expect(result.durationMs).toBeLessThan(30_000);
  });

  it('refuses fault injection specs it does not know, naming the allowed values', async () => {
    // Act
    const result = await runCli(
      ['run', '--nyt-url', 'http://127.0.0.1:9/a.csv', '--jhu-url', 'http://127.0.0.1:9/b.csv'],
      {
        ETL_FAULTS: 'loader=explode',
        ETL_LOCAL_DIR: freshStateDir(),
      },
    );
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /ETL_FAULTS: "loader=explode" has mode "explode"; expected one of fail, fail-first, crash-mid-batch/,
    );
  });
});

describeReal('etl run with a Slack webhook', () => {
  it('posts one Slack message per finished run to SLACK_WEBHOOK_URL', async () => {
    // Prepare: a stand-in for Slack's incoming webhook on the loopback address.
    const { createServer } = await import('node:http');
    const posts: Array<{ text?: string }> = [];
    const slack = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        posts.push(JSON.parse(body) as { text?: string });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    const { port } = slack.address() as import('node:net').AddressInfo;
    const dir = freshStateDir();
    serve(snapshotPath('nytEarly'), snapshotPath('jhuWithLatLong'));
    // Act
    const result = await run(dir, { SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}/services/T0/B0/x` });
    await new Promise<void>((resolve) => slack.close(() => resolve()));
    // Assess
    expect(result.json.status).toBe('SUCCEEDED');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.text).toMatch(/SUCCEEDED|new/);
    expect(outbox(dir)).toHaveLength(1);
  });
});

describeReal('etl run against an external DynamoDB (ETL_DYNAMODB_ENDPOINT)', () => {
  it('creates its tables there and keeps no embedded database in the state folder', async () => {
    // Prepare: a DynamoDB-compatible server of its own (as AWS's DynamoDB Local would be).
    const { startLocalDynamo } = await import('@covid-etl/local-stack');
    const { existsSync } = await import('node:fs');
    const external = await startLocalDynamo();
    const dir = freshStateDir();
    serve(snapshotPath('nytEarly'), snapshotPath('jhuWithLatLong'));
    try {
      // Act
      const result = await run(dir, { ETL_DYNAMODB_ENDPOINT: external.endpoint });
      const exportedRows = await runCli(['export', '--format', 'json'], {
        ETL_LOCAL_DIR: dir,
        ETL_DYNAMODB_ENDPOINT: external.endpoint,
      });
      // Assess
      expect(result.json.status).toBe('SUCCEEDED');
      expect(JSON.parse(exportedRows.stdout)).toEqual(
        expectedSeries(snapshotPath('nytEarly'), snapshotPath('jhuWithLatLong')),
      );
      expect(existsSync(path.join(dir, 'dynamodb'))).toBe(false);
    } finally {
      await external.close();
    }
  });
});
