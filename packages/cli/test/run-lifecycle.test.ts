import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunItem } from '@covid-etl/platform';
import { dateRange, jhuCsv, nytCsv } from '@covid-etl/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LocalPipeline } from '../src/local/pipeline.js';
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
