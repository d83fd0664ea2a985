import { readFileSync } from 'node:fs';
import { expectedSeries, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { freshStateDir, runCli } from './helpers/cli.js';

/**
 * `etl run --levels/--backfill/--states-url…`: the states and counties through the real command
 * on the local stack, and the one-line usage errors of the new options.
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

describeReal('etl run --levels nation,state', () => {
  it('loads the nation and the states from local files: every states row is inserted, counted by level', async () => {
    const dir = freshStateDir();
    const result = await runCli(
      [
        'run',
        '--json',
        '--levels',
        'nation,state',
        '--states-url',
        snapshotPath('statesEarly'),
        '--nyt-url',
        snapshotPath('nytEarly'),
        '--jhu-url',
        snapshotPath('jhuWithLatLong'),
      ],
      { ETL_LOCAL_DIR: dir },
    );
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    const json = JSON.parse(result.stdout) as {
      status: string;
      inserted: number;
      levels?: Record<string, { inserted: number; updated: number; rejected: number }>;
    };
    expect(json.status).toBe('SUCCEEDED');
    // us-states_2020-08-13.csv: 8,154 rows (one per state or territory and day), each a new day.
    const statesRows = readFileSync(snapshotPath('statesEarly'), 'utf8').trim().split('\n').length - 1;
    expect(statesRows).toBe(8154);
    expect(json.levels?.state).toMatchObject({ inserted: statesRows, updated: 0, rejected: 0 });
    // The nation: us_2020-06-04.csv joined with JHU by date.
    const nationDays = expectedSeries(snapshotPath('nytEarly'), snapshotPath('jhuWithLatLong')).length;
    expect(json.levels?.nation).toMatchObject({ inserted: nationDays, updated: 0, rejected: 0 });
    expect(json.inserted).toBe(statesRows + nationDays);

    const states = await runCli(['export', '--geo', '06', '--format', 'json'], { ETL_LOCAL_DIR: dir });
    expect(states.code).toBe(0);
    const california = JSON.parse(states.stdout) as Array<{ date: string }>;
    expect(california[0]?.date).toBe('2020-01-25');
  });
});

describe('etl run: one-line usage errors of --levels and --backfill', () => {
  const usage = async (args: string[]) => {
    const result = await runCli(['run', ...args], { ETL_LOCAL_DIR: freshStateDir() });
    return { code: result.code, stdout: result.stdout, stderr: result.stderr.trim() };
  };

  it('refuses an unknown level, naming the accepted ones', async () => {
    expect(await usage(['--levels', 'nation,city'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --levels nation,city: expected a comma-joined subset of nation,state,county',
    });
  });

  it('refuses --backfill counties without the county level', async () => {
    expect(await usage(['--levels', 'nation,state', '--backfill', 'counties'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --backfill counties needs the county level: add --levels county (or nation,state,county)',
    });
    // Without --levels the local default is the nation alone: the same refusal.
    expect((await usage(['--backfill', 'counties'])).stderr).toMatch(
      /^error: --backfill counties needs the county level/,
    );
  });

  it('refuses a backfill other than counties', async () => {
    expect(await usage(['--levels', 'county', '--backfill', 'states'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --backfill states: the only backfill is counties',
    });
  });
});
