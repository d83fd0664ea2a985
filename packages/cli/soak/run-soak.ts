import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FAULT_SERVICES, type FaultMode, type FaultService, LocalPipeline } from '@covid-etl/local-pipeline';
import { type ExpectedRecord, expectedSeries, jhuCsv, nytCsv } from '@covid-etl/testing';

export interface SoakOptions {
  /** How many runs (the loop's bound). */
  runs: number;
  seed: number;
  /** Progress lines (one per run). */
  log?: (line: string) => void;
}

export interface SoakResult {
  seed: number;
  runs: number;
  violations: string[];
}

/** The faults a run may get; `fail` is left out: it parks chunks for good, which a soak run cannot finish. */
const MODES: readonly FaultMode[] = ['fail-first', 'crash-mid-batch'];

/** mulberry32: a small seeded PRNG, so a seed reproduces a soak exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A snapshot of both sources: one value per day, cumulative. */
interface Snapshot {
  days: Array<{ date: string; cases: number; deaths: number; recovered: number }>;
}

function isoDay(start: string, offset: number): string {
  return new Date(Date.parse(`${start}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
}

/** The next snapshot: unchanged, revised past days, new days at the end, or both. */
function nextSnapshot(previous: Snapshot | undefined, rnd: () => number): Snapshot {
  if (!previous) {
    const length = 60 + Math.floor(rnd() * 60);
    return {
      days: Array.from({ length }, (_, i) => ({
        date: isoDay('2020-03-01', i),
        cases: 100 + i * 10,
        deaths: i,
        recovered: i * 2,
      })),
    };
  }
  const days = previous.days.map((day) => ({ ...day }));
  const change = rnd();
  if (change < 0.25) return { days };
  if (change < 0.75) {
    for (let n = 1 + Math.floor(rnd() * 3); n > 0; n -= 1) {
      const day = days[Math.floor(rnd() * days.length)];
      if (day) day.cases += 1 + Math.floor(rnd() * 5);
    }
  }
  if (change >= 0.5) {
    const last = days[days.length - 1];
    for (let i = 1, n = 1 + Math.floor(rnd() * 20); i <= n && last; i += 1) {
      days.push({
        date: isoDay(last.date, i),
        cases: last.cases + i * 10,
        deaths: last.deaths + i,
        recovered: last.recovered + i,
      });
    }
  }
  return { days };
}

/**
 * A bounded soak of the local pipeline: `runs` runs on one state folder, each under a random
 * fault (ETL_FAULTS for one service, failing PutEvents entries) and a random snapshot change.
 * After each run it checks: the data table equals the expected series computed independently
 * from the files; the run's counts are exact (inserted, updated, unchanged); exactly one new
 * email for the run; no message left in any queue or DLQ. Returns the violations (none is a pass).
 */
export async function runSoak({ runs, seed, log = () => undefined }: SoakOptions): Promise<SoakResult> {
  const rnd = random(seed);
  const dir = mkdtempSync(path.join(tmpdir(), 'etl-soak-'));
  const violations: string[] = [];
  let snapshot: Snapshot | undefined;
  let table = new Map<string, ExpectedRecord>();
  try {
    for (let i = 1; i <= runs; i += 1) {
      snapshot = nextSnapshot(snapshot, rnd);
      const nyt = path.join(dir, `nyt-${i}.csv`);
      const jhu = path.join(dir, `jhu-${i}.csv`);
      writeFileSync(nyt, nytCsv(snapshot.days));
      writeFileSync(jhu, jhuCsv(snapshot.days));
      const service = FAULT_SERVICES[Math.floor(rnd() * (FAULT_SERVICES.length + 1))] as FaultService | undefined;
      const mode = MODES[Math.floor(rnd() * MODES.length)] as FaultMode;
      const failedPuts = rnd() < 0.3 ? 1 + Math.floor(rnd() * 3) : 0;
      const fault = `${service ? `${service}=${mode}` : 'no fault'}${failedPuts ? `, ${failedPuts} failed PutEvents` : ''}`;

      const pipeline = await LocalPipeline.open({ dir, faults: service ? { [service]: mode } : {} });
      const emailsBefore = countEmails(pipeline.outboxDir);
      try {
        pipeline.bus.failNextEntries(failedPuts);
        const run = await pipeline.run({
          trigger: 'manual',
          sources: { nyt: pathToFileURL(nyt).href, jhu: pathToFileURL(jhu).href },
        });
        const expected = new Map(expectedSeries(nyt, jhu).map((record) => [record.date, record]));
        const found = `run ${i} (${run.runId}, ${fault})`;
        const fail = (what: string) => violations.push(`${found}: ${what}`);

        if (run.status !== 'SUCCEEDED') fail(`status ${run.status}, expected SUCCEEDED (${run.failure?.reason ?? ''})`);
        const stored = await pipeline.series.query();
        const differences = [...expected.values()].filter((record) => {
          const got = stored.find((s) => s.date === record.date);
          return (
            !got || got.cases !== record.cases || got.deaths !== record.deaths || got.recovered !== record.recovered
          );
        });
        if (stored.length !== expected.size || differences.length > 0) {
          fail(`table has ${stored.length} day(s), expected ${expected.size}; ${differences.length} differ`);
        }
        const want = { inserted: 0, updated: 0, unchanged: 0 };
        for (const [date, record] of expected) {
          const before = table.get(date);
          if (!before) want.inserted += 1;
          else if (before.cases !== record.cases || before.deaths !== record.deaths) want.updated += 1;
          else want.unchanged += 1;
        }
        const counts = run.summary?.counts;
        const nothingChanged = want.inserted === 0 && want.updated === 0;
        if (
          counts?.inserted !== want.inserted ||
          counts.updated !== want.updated ||
          (!nothingChanged && counts.unchanged !== want.unchanged)
        ) {
          fail(`counts ${JSON.stringify(counts)}, expected ${JSON.stringify(want)}`);
        }
        const emails = countEmails(pipeline.outboxDir) - emailsBefore;
        if (emails !== 1) fail(`${emails} email(s), expected 1`);
        for (const { queue, deadLetterQueue } of Object.values(pipeline.queues)) {
          for (const q of [queue, deadLetterQueue]) {
            const left = q.size;
            if (left > 0) fail(`${left} message(s) stranded in ${q.name}`);
          }
        }
        log(
          `run ${i}/${runs}: ${fault}: ${run.status}, ${counts?.inserted ?? 0} inserted, ${counts?.updated ?? 0} updated`,
        );
        table = expected;
      } finally {
        await pipeline.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { seed, runs, violations };
}

function countEmails(outbox: string): number {
  try {
    return readdirSync(outbox).filter((file) => file.endsWith('.eml')).length;
  } catch {
    return 0;
  }
}
