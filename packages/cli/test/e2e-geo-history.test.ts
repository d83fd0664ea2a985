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
