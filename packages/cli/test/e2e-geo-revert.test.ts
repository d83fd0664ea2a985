import { diffGeoSnapshots, readGeoSnapshot, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { openLocalPipeline } from '../src/ops/local-backend.js';
import { freshStateDir, runCli } from './helpers/cli.js';

/**
 * `etl revert` of a run that loaded states, end to end on the real files: us-states_2020-08-13.csv,
 * then us-states_2021-03-18.csv, each by the real `etl run --levels state`; the second run is
 * reverted, and every state day is compared with what the first file says; then the second
 * file is loaded again (its days are compared again, not skipped).
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

interface RunJson {
  runId: string;
  status: string;
  levels?: Record<string, { inserted: number; updated: number; unchanged: number; deleted?: number }>;
}

describeReal('etl revert of a run that loaded the states', () => {
  it('puts every state day back to what the first run loaded, removes the days the second inserted, and the next run loads them again', async () => {
    // Prepare: the two states files, each loaded by a run of its own.
    const dir = freshStateDir();
    const env = { ETL_LOCAL_DIR: dir };
    const early = snapshotPath('statesEarly');
    const late = snapshotPath('statesLate');
    const run = async (file: string) => {
      const result = await runCli(['run', '--json', '--levels', 'state', '--states-url', file], env);
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      return JSON.parse(result.stdout) as RunJson;
    };
    const first = await run(early);
    const second = await run(late);
    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    // The independent diff of the two files: what the second run inserted and revised.
    const diff = diffGeoSnapshots(early, late);
    expect(diff.inserted.length).toBeGreaterThan(10_000);
    expect(diff.revised.length).toBeGreaterThan(0);
    expect(second.levels?.state).toMatchObject({ inserted: diff.inserted.length, updated: diff.revised.length });

    // Act: revert the second run.
    const reverted = await runCli(['revert', second.runId, '--yes', '--json'], env);

    // Assess: the revert's counts per level are exact.
    expect({ code: reverted.code, stderr: reverted.code === 0 ? '' : reverted.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const revert = JSON.parse(reverted.stdout) as {
      revertRunId: string;
      status: string;
      restored: Record<string, { restored: number; removed: number }>;
      summary: { levels?: RunJson['levels'] };
    };
    expect(revert.status).toBe('SUCCEEDED');
    expect(revert.restored).toEqual({
      nation: { restored: 0, removed: 0 },
      state: { restored: diff.revised.length, removed: diff.inserted.length },
      county: { restored: 0, removed: 0 },
    });
    expect(revert.summary.levels?.state).toMatchObject({
      inserted: 0,
      updated: diff.revised.length,
      deleted: diff.inserted.length,
    });
    expect(reverted.stdout).not.toContain('notReverted');
    // Again, in text: it plans (saying how far it is, on stderr) and finds the revert done.
    const twice = await runCli(['revert', second.runId, '--yes'], env);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain(`was already reverted by run ${revert.revertRunId} (SUCCEEDED): nothing to do`);
    expect(twice.stderr).toMatch(/planning: [\d,]+ state and county days read and checked/);

    // Every state day is what the first file says (the second run's new days are gone), the
    // revert is versioned, and the catalogue's latest values are the first file's again.
    const expected = readGeoSnapshot(early);
    const states = [...new Set([...readGeoSnapshot(late).keys()].map((key) => key.split('|')[0] as string))].sort();
    const pipeline = await openLocalPipeline({ ...env, ETL_FAULTS: '' });
    try {
      const stored = new Map<string, { cases: number; deaths: number | null }>();
      for (const geo of states) {
        for (const day of await pipeline.geoSeries.query(geo)) {
          stored.set(`${geo}|${day.date}`, { cases: day.cases, deaths: day.deaths });
        }
      }
      expect(stored.size).toBe(expected.size);
      const wrong = [...expected].filter(([key, values]) => JSON.stringify(stored.get(key)) !== JSON.stringify(values));
      expect(wrong).toEqual([]);
      const versions = await pipeline.series.versions.geoChangesOf(revert.revertRunId);
      expect(versions.filter((v) => v.change === 'deleted').length).toBe(diff.inserted.length);
      expect(versions.filter((v) => v.change === 'updated').length).toBe(diff.revised.length);
      const catalogue = await pipeline.geos.listGeos();
      const lastOf = (geo: string) =>
        [...expected.keys()]
          .filter((key) => key.startsWith(`${geo}|`))
          .map((key) => key.split('|')[1] as string)
          .sort()
          .at(-1);
      const stale = catalogue
        .filter((entry) => entry.level === 'state')
        .filter((entry) => {
          const last = lastOf(entry.id);
          return entry.lastDate !== last || entry.cases !== expected.get(`${entry.id}|${last}`)?.cases;
        });
      expect(stale).toEqual([]);
    } finally {
      await pipeline.close();
    }

    // The next normal run of the second file compares those days again and loads them again.
    const again = await run(late);
    expect(again.status).toBe('SUCCEEDED');
    expect(again.levels?.state).toMatchObject({ inserted: diff.inserted.length, updated: diff.revised.length });
  }, 900_000);
});
