import { diffGeoSnapshots, readGeoSnapshot, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { freshStateDir, runCli } from './helpers/cli.js';

/**
 * The history of the states from the CLI, end to end on the real files: us-states_2020-08-13.csv,
 * then us-states_2021-03-18.csv, each loaded by the real `etl run --levels state`; then
 * `etl history --geo`, `etl diff` and `etl export --geo --as-of` compared with what the raw
 * files say (`diffGeoSnapshots`, `readGeoSnapshot`: independent of the pipeline).
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

interface RunJson {
  runId: string;
  status: string;
}

type GeoValues = { cases: number; deaths: number | null };

describeReal('the history of the states from the CLI', () => {
  const dir = freshStateDir();
  const env = { ETL_LOCAL_DIR: dir };
  const early = snapshotPath('statesEarly');
  const late = snapshotPath('statesLate');
  const runs: RunJson[] = [];
  const cli = (args: string[]) => runCli(args, env);

  beforeAll(async () => {
    for (const file of [early, late]) {
      const result = await cli(['run', '--json', '--levels', 'state', '--states-url', file]);
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      runs.push(JSON.parse(result.stdout) as RunJson);
    }
    expect(runs.map((run) => run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  }, 900_000);

  it('etl history --geo lists both versions of a revised state day, oldest first, with their runs', async () => {
    // Prepare: a state day the second file revised (deaths reported in both), from the raw files.
    const before = readGeoSnapshot(early);
    const after = readGeoSnapshot(late);
    const revised = diffGeoSnapshots(early, late).revised.find(
      (k) => before.get(k)?.deaths != null && after.get(k)?.deaths != null,
    );
    if (!revised) throw new Error('the states files revise no day with deaths reported');
    const [geo, date] = revised.split('|') as [string, string];
    const [first, second] = [before.get(revised) as GeoValues, after.get(revised) as GeoValues];

    // Act
    const json = await cli(['history', '--geo', geo, date, '--json']);
    const text = await cli(['history', '--geo', geo, date]);
    const never = await cli(['history', '--geo', geo, '2019-01-01']);

    // Assess
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' });
    const versions = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(versions.map(({ at: _at, ...rest }) => rest)).toEqual([
      { geo, date, runId: runs[0]?.runId, change: 'inserted', before: null, after: first },
      {
        geo,
        date,
        runId: runs[1]?.runId,
        change: 'updated',
        before: { ...first, runId: runs[0]?.runId },
        after: second,
      },
    ]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${geo} ${date}: 2 version(s), oldest first`);
    expect(lines[1]).toContain(`${runs[0]?.runId}`);
    expect(lines[1]).toContain(`inserted cases ${first.cases.toLocaleString('en-US')}`);
    expect(lines[2]).toContain(`${runs[1]?.runId}`);
    expect(lines[2]).toMatch(/ updated {2}(cases|deaths) [\d,]+ → [\d,]+ \([+-][\d,]+\)/);
    expect(never.stdout).toBe(`${geo} 2019-01-01: no version in local (never loaded)\n`);
  });

  it("etl diff of the second run lists exactly the states' days the second file inserted or revised, old → new", async () => {
    // Prepare: the independent diff of the two files.
    const before = readGeoSnapshot(early);
    const after = readGeoSnapshot(late);
    const diff = diffGeoSnapshots(early, late);
    const expected = [
      ...diff.inserted.map((key) => ({ key, change: 'inserted', before: null, after: after.get(key) })),
      ...diff.revised.map((key) => ({ key, change: 'updated', before: before.get(key), after: after.get(key) })),
    ].sort((a, b) => a.key.localeCompare(b.key));

    // Act
    const json = await cli(['diff', runs[1]?.runId as string, '--json']);
    const text = await cli(['diff', runs[1]?.runId as string, '--limit', '3']);
    const byDefault = await cli(['diff', runs[1]?.runId as string]);
    const all = await cli(['diff', runs[1]?.runId as string, '--limit', 'all']);

    // Assess: every row a state's, with geo and level, and exactly the changed days with their values.
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' });
    const rows = JSON.parse(json.stdout) as {
      geo: string;
      level: string;
      date: string;
      change: string;
      before: GeoValues | null;
      after: GeoValues | null;
    }[];
    expect(new Set(rows.map((row) => row.level))).toEqual(new Set(['state']));
    expect(
      rows
        .map(({ geo, date, change, before: b, after: a }) => ({ key: `${geo}|${date}`, change, before: b, after: a }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    ).toEqual(expected);
    const size = (row: (typeof rows)[number]) =>
      Math.max(
        Math.abs((row.after?.cases ?? 0) - (row.before?.cases ?? 0)),
        Math.abs((row.after?.deaths ?? 0) - (row.before?.deaths ?? 0)),
      );
    const sizes = rows.map(size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const n = (count: number) => count.toLocaleString('en-US');
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      `Run ${runs[1]?.runId} (manual, SUCCEEDED): ${n(rows.length)} day(s) changed: nation 0, state ${n(rows.length)}, county 0`,
      `States: ${n(rows.length)} day(s) changed: ${n(diff.inserted.length)} inserted, ${n(diff.revised.length)} updated`,
    ]);
    expect(lines.slice(2, 5).map((line) => line.split(/ +/).slice(1, 3).join('|'))).toEqual(
      rows.slice(0, 3).map((row) => `${row.geo}|${row.date}`),
    );
    expect(lines[5]).toBe(`  … and ${n(rows.length - 3)} more (--limit <n> or --limit all)`);
    // Without --limit: the 20 largest of the states' days; with --limit all: every one.
    const listed = (output: string) =>
      output
        .trimEnd()
        .split('\n')
        .filter((line) => /^ {2}\d{2} /.test(line));
    expect(rows.length).toBeGreaterThan(20);
    expect(listed(byDefault.stdout).map((line) => line.split(/ +/).slice(1, 3).join('|'))).toEqual(
      rows.slice(0, 20).map((row) => `${row.geo}|${row.date}`),
    );
    expect(byDefault.stdout.trimEnd().split('\n').at(-1)).toBe(
      `  … and ${n(rows.length - 20)} more (--limit <n> or --limit all)`,
    );
    expect(listed(all.stdout)).toHaveLength(rows.length);
    expect(all.stdout).not.toContain('more (--limit');
  });

  it("etl export --geo --as-of the first run prints that state's series as the first file had it", async () => {
    // Prepare: a state the second file revised and extended, and its series in each file.
    const diff = diffGeoSnapshots(early, late);
    const geo = (diff.revised[0] ?? '').split('|')[0] as string;
    const csvOf = (file: string) =>
      [
        'date,cases,deaths',
        ...[...readGeoSnapshot(file)]
          .filter(([key]) => key.startsWith(`${geo}|`))
          .map(([key, values]) => ({ date: key.split('|')[1] as string, ...values }))
          .sort((a, b) => a.date.localeCompare(b.date))
          .map((day) => `${day.date},${day.cases},${day.deaths ?? ''}`),
      ].join('\n');
    expect(diff.inserted.some((key) => key.startsWith(`${geo}|`))).toBe(true);

    // Act
    const first = await cli(['export', '--geo', geo, '--as-of', runs[0]?.runId as string]);
    const second = await cli(['export', '--geo', geo, '--as-of', runs[1]?.runId as string]);

    // Assess
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout.trimEnd()).toBe(csvOf(early));
    expect(second.stdout.trimEnd()).toBe(csvOf(late));
  });

  it('etl history refuses a geography id that is not one, in one line with exit 1', async () => {
    // Act
    const bad = await cli(['history', '--geo', 'TX', '2020-08-01']);
    const help = await cli(['history', '--help']);

    // Assess
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error: --geo: geography "TX" is not a geography id; expected US[^\n]*\n$/);
    expect(help.stdout).toContain('--geo <id>');
  });
});
