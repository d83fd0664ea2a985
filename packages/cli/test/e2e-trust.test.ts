import { readFileSync } from 'node:fs';
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
import { emailSubject, freshStateDir, outbox, runCli } from './helpers/cli.js';

/** A CLI call takes seconds (a fresh process, dynalite): these tests make up to nine. */
const SLOW = 600_000;

/**
 * End to end on the local stack: a snapshot that trips a data-quality gate is HELD (nothing
 * written), `etl approve` loads exactly it, `etl reject` leaves table and baselines alone, and
 * secrets in source URLs appear in no output, log, email or ledger listing.
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

let server: SourceServer;

beforeAll(async () => {
  server = await startSourceServer();
});

afterAll(async () => {
  await server.close();
});

const serve = (nyt: string, jhu: string) => {
  server.set('/nyt.csv', { file: nyt });
  server.set('/jhu.csv', { file: jhu });
};

async function run(dir: string, urls = { nyt: server.url('/nyt.csv'), jhu: server.url('/jhu.csv') }) {
  const result = await runCli(['run', '--json', '--nyt-url', urls.nyt, '--jhu-url', urls.jhu], { ETL_LOCAL_DIR: dir });
  return { ...result, json: JSON.parse(result.stdout || '{}') as Record<string, unknown> & { runId: string } };
}

async function exported(dir: string): Promise<ExpectedRecord[]> {
  const result = await runCli(['export', '--format', 'json'], { ETL_LOCAL_DIR: dir });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ExpectedRecord[];
}

/** `base` with the days of `snapshot` written over it (what loading the snapshot does). */
function overlay(base: ExpectedRecord[], snapshot: ExpectedRecord[]): ExpectedRecord[] {
  const all = new Map(base.map((r) => [r.date, r]));
  for (const r of snapshot) all.set(r.date, r);
  return [...all.values()].sort((a, b) => a.date.localeCompare(b.date));
}

describeReal('a snapshot that trips a data-quality gate', () => {
  const full = () => expectedSeries(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));
  const early = () => expectedSeries(snapshotPath('nytEarly'), snapshotPath('jhuFinal'));

  it(
    'is HELD with nothing written and one email naming the gates; approve loads exactly it, once',
    async () => {
      // Prepare: the final files are loaded; then a stale mirror serves the 2020-06-04 NYT file.
      const dir = freshStateDir();
      serve(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));
      expect((await run(dir)).code).toBe(0);
      serve(snapshotPath('nytEarly'), snapshotPath('jhuFinal'));

      // Act
      const held = await run(dir);
      const tableWhileHeld = await exported(dir);
      const status = await runCli(['status', held.json.runId], { ETL_LOCAL_DIR: dir });
      const approved = await runCli(['approve', held.json.runId, '--json'], { ETL_LOCAL_DIR: dir });
      const tableAfter = await exported(dir);
      const again = await runCli(['approve', held.json.runId], { ETL_LOCAL_DIR: dir });
      const rejectApproved = await runCli(['reject', held.json.runId], { ETL_LOCAL_DIR: dir });

      // Assess
      expect(held.code).toBe(6);
      expect(held.json).toMatchObject({ status: 'HELD', inserted: 0, updated: 0 });
      expect(String((held.json.failure as { reason: string }).reason)).toMatch(
        /last date 2020-06-03 is earlier than the loaded 2021-03-16; 286 loaded date\(s\) are missing from the snapshot \(2020-06-04 to 2021-03-16\); rows 420 loaded, 134 in the snapshot/,
      );
      expect(tableWhileHeld).toEqual(full());
      expect(status.stdout).toContain(`Run ${held.json.runId}: HELD (stage: gates)`);
      expect(status.stdout).toContain(`pnpm etl approve ${held.json.runId}`);
      const mails = outbox(dir);
      expect(mails).toHaveLength(3);
      expect(emailSubject(mails[1] as string)).toMatch(/HELD: Held: the snapshot tripped 2 data-quality gate/);
      expect(readFileSync(mails[1] as string, 'utf8')).toContain('Data-quality gates tripped (2)');

      const expected = overlay(full(), early());
      const before = new Map(full().map((r) => [r.date, r]));
      const updated = early().filter((r) => JSON.stringify(before.get(r.date)) !== JSON.stringify(r)).length;
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.stdout)).toMatchObject({
        status: 'SUCCEEDED',
        counts: { inserted: 0, updated, unchanged: early().length - updated, rejected: 0 },
        decision: { action: 'approve' },
        gates: [{ gate: 'last-date' }, { gate: 'missing-dates' }],
      });
      expect(tableAfter).toEqual(expected);
      expect(emailSubject(mails[2] as string)).toBe(
        `[covid-etl local] Run ${held.json.runId.slice(2, 6)}-${held.json.runId.slice(6, 8)}-${held.json.runId.slice(8, 10)}: 0 new, ${updated} updated`,
      );
      expect(again.code).toBe(0);
      expect(await exported(dir)).toEqual(expected);
      expect(rejectApproved.code).toBe(1);
      expect(rejectApproved.stderr.trim().split('\n').at(-1)).toBe(
        `error: Run ${held.json.runId} is SUCCEEDED (it was approved): only a HELD run can be rejected`,
      );
    },
    SLOW,
  );

  it(
    'reject leaves the table and the baselines untouched: the next run of the loaded files gets 304s',
    async () => {
      // Prepare
      const dir = freshStateDir();
      serve(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));
      await run(dir);
      serve(snapshotPath('nytEarly'), snapshotPath('jhuFinal'));
      const held = await run(dir);
      serve(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));

      // Act
      const rejected = await runCli(['reject', held.json.runId], { ETL_LOCAL_DIR: dir });
      const seen = server.requests.length;
      const next = await run(dir);
      const runs = await runCli(['runs', '--json'], { ETL_LOCAL_DIR: dir });

      // Assess
      expect(rejected.code).toBe(0);
      expect(rejected.stdout).toContain(`Run ${held.json.runId}: REJECTED`);
      expect(await exported(dir)).toEqual(full());
      expect(server.requests.slice(seen).map((r) => r.status)).toEqual([304, 304]);
      expect(next.json).toMatchObject({ status: 'SUCCEEDED', inserted: 0, updated: 0 });
      const statuses = (JSON.parse(runs.stdout) as Array<{ runId: string; status: string }>).map((r) => r.status);
      expect(statuses).toEqual(['SUCCEEDED', 'REJECTED', 'SUCCEEDED']);
    },
    SLOW,
  );

  it(
    'a held run followed by the correct, newer file loads that file exactly',
    async () => {
      // Prepare: 2020-06-25 loaded; a stale 2020-06-04 file is held.
      const dir = freshStateDir();
      const jhu = snapshotPath('jhuWithLatLong');
      serve(snapshotPath('nytNext'), jhu);
      await run(dir);
      serve(snapshotPath('nytEarly'), jhu);
      const held = await run(dir);
      serve(snapshotPath('nytFinal'), jhu);

      // Act
      const next = await run(dir);

      // Assess
      expect(held.json.status).toBe('HELD');
      expect(next.code).toBe(0);
      expect(next.json.status).toBe('SUCCEEDED');
      expect(await exported(dir)).toEqual(expectedSeries(snapshotPath('nytFinal'), jhu));
    },
    SLOW,
  );
});

describeReal('secrets in source URLs', () => {
  it(
    'appear nowhere: not in output, logs, emails, or the runs and status listings',
    async () => {
      // Prepare
      const dir = freshStateDir();
      serve(snapshotPath('nytNext'), snapshotPath('jhuWithLatLong'));
      const secret = (p: string) => `${server.url(p).replace('://', '://operator:hunter2@')}?token=TOPSECRET`;

      // Act
      const ok = await run(dir, { nyt: secret('/nyt.csv'), jhu: secret('/jhu.csv') });
      const failed = await run(dir, { nyt: secret('/missing.csv'), jhu: secret('/jhu.csv') });
      const runs = await runCli(['runs', '--json'], { ETL_LOCAL_DIR: dir });
      const status = await runCli(['status', failed.json.runId, '--json'], { ETL_LOCAL_DIR: dir });

      // Assess
      expect(ok.json.status).toBe('SUCCEEDED');
      expect(failed.json.status).toBe('FAILED');
      expect(status.stdout).toContain('/missing.csv answered HTTP 404');
      const seen = [
        ok.stdout,
        ok.stderr,
        failed.stdout,
        failed.stderr,
        runs.stdout,
        status.stdout,
        readFileSync(path.join(dir, 'logs', 'pipeline.log'), 'utf8'),
        ...outbox(dir).map((file) => readFileSync(file, 'utf8')),
      ].join('\n');
      expect(outbox(dir)).toHaveLength(2);
      expect(seen).toContain('/nyt.csv');
      expect(seen).not.toMatch(/hunter2|TOPSECRET|operator:/);
    },
    SLOW,
  );
});
