import { readFileSync } from 'node:fs';
import { type ExpectedRecord, expectedSeries, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { freshStateDir, outbox, runCli } from './helpers/cli.js';

/**
 * Revision history end to end, on the real snapshots: NYT 2020-06-04, then 2020-06-25, then
 * the final file (JHU files in date order), each loaded by the real `etl run`; then `etl diff`,
 * `etl export --as-of`, `etl history` and `etl revert` compared with what the raw files say.
 */
/** Every `etl` call is a process opening the persisted local stack (several seconds on a busy machine). */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

const RUNS = [
  { nyt: snapshotPath('nytEarly'), jhu: snapshotPath('jhuWithLatLong') },
  { nyt: snapshotPath('nytNext'), jhu: snapshotPath('jhuWithLatLong') },
  { nyt: snapshotPath('nytFinal'), jhu: snapshotPath('jhuFinal') },
];

type Values = Omit<ExpectedRecord, 'date'>;
interface DiffJson {
  date: string;
  change: string;
  before: Values | null;
  after: Values | null;
}

const values = ({ cases, deaths, recovered }: Values): Values => ({ cases, deaths, recovered });

/** The table after each run, computed from the raw files alone: each run's join over the previous table. */
function expectedTables(): Map<string, ExpectedRecord>[] {
  const tables: Map<string, ExpectedRecord>[] = [];
  let table = new Map<string, ExpectedRecord>();
  for (const files of RUNS) {
    table = new Map(table);
    for (const record of expectedSeries(files.nyt, files.jhu)) table.set(record.date, record);
    tables.push(table);
  }
  return tables;
}

/** The diff between two tables, computed independently of the pipeline, by date. */
function expectedDiff(before: Map<string, ExpectedRecord>, after: Map<string, ExpectedRecord>): DiffJson[] {
  const rows: DiffJson[] = [];
  for (const [date, record] of after) {
    const old = before.get(date);
    if (!old) rows.push({ date, change: 'inserted', before: null, after: values(record) });
    else if (JSON.stringify(values(old)) !== JSON.stringify(values(record))) {
      rows.push({ date, change: 'updated', before: values(old), after: values(record) });
    }
  }
  return rows.sort((a, b) => a.date.localeCompare(b.date));
}

const csvOf = (table: Map<string, ExpectedRecord>) =>
  [
    'date,cases,deaths,recovered',
    ...[...table.values()]
      .sort((a, b) => a.date.localeCompare(b.date))
      .map((r) => `${r.date},${r.cases},${r.deaths},${r.recovered}`),
  ].join('\n');

async function cli(dir: string, args: string[], env: Record<string, string> = {}) {
  const result = await runCli(args, { ETL_LOCAL_DIR: dir, ...env });
  return result;
}

async function loadAll(dir: string, count: number, env: Record<string, string> = {}): Promise<string[]> {
  const runIds: string[] = [];
  for (const files of RUNS.slice(0, count)) {
    const result = await cli(dir, ['run', '--json', '--nyt-url', files.nyt, '--jhu-url', files.jhu], env);
    const json = JSON.parse(result.stdout) as { runId: string; status: string };
    expect(json.status).toBe('SUCCEEDED');
    runIds.push(json.runId);
  }
  return runIds;
}

async function diffJson(dir: string, runId: string): Promise<DiffJson[]> {
  const result = await cli(dir, ['diff', runId, '--json']);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as DiffJson[]).sort((a, b) => a.date.localeCompare(b.date));
}

describeReal('revision history on the real snapshots', () => {
  it(
    'diffs each run as the raw files do, travels back to each run, and reverts the last run exactly',
    async () => {
      // Prepare
      const dir = freshStateDir('etl-history-');
      const tables = expectedTables();

      // Act
      const runIds = await loadAll(dir, 3);
      const diffs: DiffJson[][] = [];
      const asOf = [];
      for (const runId of runIds) {
        diffs.push(await diffJson(dir, runId));
        asOf.push(await cli(dir, ['export', '--as-of', runId]));
      }
      const asOfJson = await cli(dir, ['export', '--as-of', runIds[1] as string, '--format', 'json']);
      const largest = await cli(dir, ['diff', runIds[2] as string, '--json', '--limit', '3']);

      // Assess: every run's diff equals the one computed from the raw files; each --as-of equals the join then.
      expect(diffs[0]).toEqual(expectedDiff(new Map(), tables[0] as Map<string, ExpectedRecord>));
      for (const k of [1, 2]) {
        const expected = expectedDiff(
          tables[k - 1] as Map<string, ExpectedRecord>,
          tables[k] as Map<string, ExpectedRecord>,
        );
        expect(diffs[k]).toEqual(expected);
        // The real snapshots revise past days: the test would be vacuous otherwise.
        expect(expected.filter((row) => row.change === 'updated').length).toBeGreaterThan(10);
      }
      asOf.forEach((result, k) => {
        expect(result.code).toBe(0);
        expect(result.stdout.trim()).toBe(csvOf(tables[k] as Map<string, ExpectedRecord>));
      });
      expect(JSON.parse(asOfJson.stdout)).toEqual(
        [...(tables[1] as Map<string, ExpectedRecord>).values()].sort((a, b) => a.date.localeCompare(b.date)),
      );
      // --limit keeps the largest changes, largest first.
      const top = JSON.parse(largest.stdout) as DiffJson[];
      const magnitude = (row: DiffJson) =>
        Math.max(
          ...(['cases', 'deaths', 'recovered'] as const).map((f) =>
            Math.abs((row.after?.[f] ?? 0) - (row.before?.[f] ?? 0)),
          ),
        );
      expect(top).toHaveLength(3);
      const allMagnitudes = (diffs[2] as DiffJson[]).map(magnitude).sort((a, b) => b - a);
      expect(top.map(magnitude)).toEqual(allMagnitudes.slice(0, 3));

      // Act: a revert of run 2 is refused (run 3 changed the same days), then run 3 is reverted, twice.
      const refused = await cli(dir, ['revert', runIds[1] as string, '--yes']);
      const reverted = await cli(dir, ['revert', runIds[2] as string, '--yes', '--json']);
      const afterRevert = await cli(dir, ['export']);
      const again = await cli(dir, ['revert', runIds[2] as string, '--yes']);
      const afterAgain = await cli(dir, ['export']);
      const runs = JSON.parse((await cli(dir, ['runs', '--json'])).stdout) as Array<{ runId: string; trigger: string }>;

      // Assess: refused naming the days; the revert gives back the table as of run 2, byte for byte.
      expect(refused.code).toBe(1);
      const firstConflict = (diffs[1] as DiffJson[]).find((row) =>
        (diffs[2] as DiffJson[]).some((later) => later.date === row.date),
      );
      expect(refused.stderr).toMatch(/^error: Refusing to revert run .*changed by a later run/);
      expect(refused.stderr).toContain(`${firstConflict?.date} (${runIds[2]})`);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(reverted.code).toBe(0);
      const revert = JSON.parse(reverted.stdout) as {
        revertRunId: string;
        status: string;
        summary: { trigger: string; counts: { updated: number; deleted?: number; inserted: number } };
      };
      const inserted3 = (diffs[2] as DiffJson[]).filter((row) => row.change === 'inserted').length;
      expect(revert).toMatchObject({
        status: 'SUCCEEDED',
        summary: {
          trigger: 'revert',
          counts: { inserted: 0, updated: (diffs[2] as DiffJson[]).length - inserted3, deleted: inserted3 },
        },
      });
      expect(afterRevert.stdout).toBe(asOf[1]?.stdout);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('already reverted');
      expect(afterAgain.stdout).toBe(afterRevert.stdout);
      expect(runs.filter((run) => run.trigger === 'revert').map((run) => run.runId)).toEqual([revert.revertRunId]);
      // The revert is versioned, announced by email, and has its own diff.
      const revertDiff = await diffJson(dir, revert.revertRunId);
      expect(revertDiff).toHaveLength((diffs[2] as DiffJson[]).length);
      const emails = outbox(dir).map((file) => readFileSync(file, 'utf8'));
      expect(emails.filter((email) => email.includes(revert.revertRunId))).toHaveLength(1);
      // Each run's email names the days it revised.
      const updated3 = (diffs[2] as DiffJson[]).filter((row) => row.change === 'updated');
      const dates3 = updated3.map((row) => row.date).sort();
      const run3Email = emails.find((email) => email.includes(`run ${runIds[2]}:`)) ?? '';
      expect(run3Email).toContain(`Revised:      ${updated3.length} revised days, ${dates3[0]} to ${dates3.at(-1)}`);
      const revisedDay = (diffs[2] as DiffJson[]).find((row) => row.change === 'updated') as DiffJson;
      const history = JSON.parse((await cli(dir, ['history', revisedDay.date, '--json'])).stdout) as Array<{
        runId: string;
        after: Values | null;
      }>;
      expect(history.map((v) => v.runId).slice(-2)).toEqual([runIds[2], revert.revertRunId]);
      expect(history.at(-1)?.after).toEqual(revisedDay.before);

      // Act: the next run of the same final files is not "unchanged": it loads run 3's changes again.
      const rerun = await cli(dir, [
        'run',
        '--json',
        '--nyt-url',
        RUNS[2]?.nyt as string,
        '--jhu-url',
        RUNS[2]?.jhu as string,
      ]);

      // Assess
      const rerunJson = JSON.parse(rerun.stdout) as { updated: number; inserted: number };
      expect({ updated: rerunJson.updated, inserted: rerunJson.inserted }).toEqual({
        updated: (diffs[2] as DiffJson[]).length - inserted3,
        inserted: inserted3,
      });
      expect((await cli(dir, ['export'])).stdout).toBe(asOf[2]?.stdout);
    },
    20 * 60_000,
  );

  it.each(['crash-mid-batch', 'fail-first'])(
    'keeps one version per real change under ETL_FAULTS=loader=%s',
    async (mode) => {
      // Prepare
      const dir = freshStateDir('etl-history-faults-');
      const tables = expectedTables();

      // Act
      const runIds = await loadAll(dir, 2, { ETL_FAULTS: `loader=${mode}` });
      const first = await diffJson(dir, runIds[0] as string);
      const second = await diffJson(dir, runIds[1] as string);

      // Assess: exactly the real changes, none twice.
      expect(first).toEqual(expectedDiff(new Map(), tables[0] as Map<string, ExpectedRecord>));
      expect(second).toEqual(
        expectedDiff(tables[0] as Map<string, ExpectedRecord>, tables[1] as Map<string, ExpectedRecord>),
      );
      const revised = second.find((row) => row.change === 'updated') as DiffJson;
      const history = JSON.parse((await cli(dir, ['history', revised.date, '--json'])).stdout) as unknown[];
      expect(history).toHaveLength(2);
    },
    10 * 60_000,
  );
});
