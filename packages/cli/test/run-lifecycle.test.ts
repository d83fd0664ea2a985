import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalPipeline } from '@covid-etl/local-pipeline';
import type { RunItem } from '@covid-etl/platform';
import { dateRange, jhuCsv, nytCsv } from '@covid-etl/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Output } from '../src/commands/output.js';
import { abandonCommand } from '../src/ops/abandon.js';
import type { OperatorBackend } from '../src/ops/backend.js';
import { NotConfirmedError } from '../src/ops/errors.js';
import { LocalOperatorBackend } from '../src/ops/local-backend.js';
import { freshStateDir } from './helpers/cli.js';

/**
 * How runs end on the local stack when something stops them: each ends in a final state with a
 * true reason and exactly one notification.
 */
let dir: string;
let pipeline: LocalPipeline;

const emails = () =>
  readdirSync(pipeline.outboxDir)
    .filter((file) => file.endsWith('.eml'))
    .map((file) => readFileSync(path.join(pipeline.outboxDir, file), 'utf8'));

function runningRun(runId: string): RunItem {
  return {
    runId,
    environment: 'local',
    trigger: 'manual',
    status: 'RUNNING',
    startedAt: new Date().toISOString(),
    dispatch: 'PENDING',
    sources: [],
    months: [],
    skipped: { months: 0, records: 0 },
  };
}

/** Two months of both sources as local files; `bump` changes every count (a new snapshot). */
function sources(bump = 0) {
  const days = dateRange('2020-03-01', 61);
  const nyt = path.join(dir, `nyt-${bump}.csv`);
  const jhu = path.join(dir, `jhu-${bump}.csv`);
  writeFileSync(nyt, nytCsv(days.map((date, i) => ({ date, cases: 100 + i + bump, deaths: i }))));
  writeFileSync(jhu, jhuCsv(days.map((date) => ({ date, recovered: 0 }))));
  return { nyt: pathToFileURL(nyt).href, jhu: pathToFileURL(jhu).href };
}

beforeAll(async () => {
  dir = freshStateDir('etl-lifecycle-');
  pipeline = await LocalPipeline.open({ dir });
});

afterAll(async () => {
  await pipeline.close();
});

describe('a run whose fetcher stopped before dispatching (Ctrl-C, crash)', () => {
  it('is reported by the next run as such, with nothing to replay, in one email', async () => {
    // Prepare: what an interrupted `etl run` leaves: the run item, nothing sent.
    const runId = 'm-20261125T060000Z-aaaaaa';
    await pipeline.ledger.createRun(runningRun(runId));

    // Act: the next `etl run` settles the stack first.
    await pipeline.settle();

    // Assess
    const run = await pipeline.ledger.getRun(runId);
    expect(run?.status).toBe('INCOMPLETE');
    expect(run?.failure).toEqual({
      stage: 'fetch',
      reason: `the fetcher stopped before dispatching: run \`pnpm etl run\` again, or abandon it: \`pnpm etl abandon ${runId}\``,
    });
    const mails = emails();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('the fetcher stopped before dispatching');
    expect(mails[0]).not.toMatch(/0 of 0 chunk|replay them/);
  });
});

describe('a bus that refuses the outcome event', () => {
  it('finishes the run, keeps no loaded chunk in the loader DLQ, and announces it once the bus is back', async () => {
    // Prepare: the next six PutEvents entries fail (more than the loader queue's maxReceiveCount).
    const before = emails().length;
    pipeline.bus.failNextEntries(6);

    // Act
    const run = await pipeline.run({ trigger: 'manual', sources: sources(1) });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect((await pipeline.ledger.getRun(run.runId))?.event?.state).toBe('PUBLISHED');
    expect(pipeline.queues.loader.deadLetterQueue.peek()).toEqual([]);
    expect(emails().length - before).toBe(1);
  });
});

describe('etl abandon', () => {
  /** The command against this test's pipeline (kept open), its printed lines collected. */
  async function abandon(runId: string, options: { reason?: string; yes?: boolean; environment?: string } = {}) {
    const lines: string[] = [];
    const stdout = { write: (text: string) => lines.push(text.trim()) } as unknown as NodeJS.WritableStream;
    const backend = new LocalOperatorBackend(pipeline);
    const open = async (): Promise<OperatorBackend> =>
      Object.assign(Object.create(backend) as LocalOperatorBackend, {
        environment: options.environment ?? 'local',
        close: async () => undefined,
      });
    const code = await abandonCommand(
      runId,
      { env: 'local', reason: options.reason, yes: options.yes },
      { out: new Output({ stdout, quiet: true }), open, prompt: { interactive: false, ask: async () => 'n' } },
    );
    return { code, text: lines.join('\n') };
  }

  it('closes a RUNNING run once with one email, is idempotent, and drops its late chunks', async () => {
    // Prepare: a dispatched run whose chunk still waits in the loader queue.
    const runId = 'm-20261125T070000Z-bbbbbb';
    await pipeline.ledger.createRun(runningRun(runId));
    await pipeline.ledger.recordDispatchPlan(runId, {
      sources: [],
      months: ['2019-01'],
      hashes: { '2019-01': 'd'.repeat(64) },
      skipped: { months: 0, records: 0 },
    });
    await pipeline.ledger.markDispatched(runId);
    const mailsBefore = emails().length;

    // Act
    const first = await abandon(runId, { reason: 'source is being republished' });
    const second = await abandon(runId);
    pipeline.queues.loader.queue.send(
      JSON.stringify({
        version: 1,
        runId,
        month: '2019-01',
        hash: 'd'.repeat(64),
        records: [{ date: '2019-01-01', cases: 1, deaths: 0, recovered: 0 }],
        rejected: [],
      }),
    );
    await pipeline.settle();

    // Assess
    expect(first.code).toBe(0);
    expect(first.text).toMatch(/^Run m-20261125T070000Z-bbbbbb abandoned \(was RUNNING\)/);
    expect(second).toEqual({ code: 0, text: `Run ${runId} was already abandoned: nothing to do.` });
    const run = await pipeline.ledger.getRun(runId);
    expect(run?.status).toBe('ABANDONED');
    expect(run?.failure).toEqual({
      reason: 'abandoned by an operator: source is being republished',
      stage: 'abandoned',
    });
    const mails = emails().slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('ABANDONED');
    expect(await pipeline.series.query({ from: '2019-01-01', to: '2019-01-31' })).toEqual([]);
    expect((await pipeline.ledger.getChunk(runId, '2019-01'))?.stage).toBe('SENT');
    expect(readFileSync(pipeline.logFile, 'utf8')).toMatch(
      new RegExp(`"runId":"${runId}".*chunk of an abandoned run dropped`),
    );
  });

  it('leaves a finished run alone and says so (exit 1)', async () => {
    // Prepare
    // (the snapshot of the abandoned run above: revising every loaded day would trip a data-quality gate and hold the run)
    const done = await pipeline.run({ trigger: 'manual', sources: sources(1) });
    expect(done.status).toBe('SUCCEEDED');

    // Act
    const result = await abandon(done.runId);

    // Assess
    expect(result.code).toBe(1);
    expect(result.text).toContain('only a RUNNING, INCOMPLETE or HELD run can be abandoned; nothing changed');
    expect((await pipeline.ledger.getRun(done.runId))?.status).toBe('SUCCEEDED');
  });

  it('asks for confirmation in prod and refuses without a terminal unless --yes', async () => {
    // Prepare
    const runId = 'm-20261125T080000Z-cccccc';
    await pipeline.ledger.createRun(runningRun(runId));

    // Act
    const refused = abandon(runId, { environment: 'prod' });

    // Assess
    await expect(refused).rejects.toThrow(NotConfirmedError);
    expect((await pipeline.ledger.getRun(runId))?.status).toBe('RUNNING');
    expect((await abandon(runId, { environment: 'prod', yes: true })).code).toBe(0);
  });
});
