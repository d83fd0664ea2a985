import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import { formatRunSummary } from '../src/format.js';
import { formatRunReport, formatRunsTable, type RunReport } from '../src/ops/report.js';
import { freshStateDir, runCli } from './helpers/cli.js';

/**
 * Counts per geography level and the PARTIAL status of rows rejected by a states file, in
 * `etl status` (text and --json) and `etl runs`: unit tests of the text, and the real command
 * on the local stack with a copy of the real states file holding one bad row.
 */

function report(overrides: Partial<RunReport> = {}): RunReport {
  return {
    runId: 'm-20261130T100000Z-abc123',
    status: 'SUCCEEDED',
    stage: 'done',
    trigger: 'manual',
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T10:01:00.000Z',
    durationMs: 60_000,
    counts: { inserted: 1, updated: 3, unchanged: 1150, rejected: 0 },
    chunks: { expected: 2, loaded: 2, pending: 0, skipped: 36 },
    pendingChunks: [],
    rejectedRows: [],
    deadLetterQueues: [],
    dateRange: { from: '2020-01-21', to: '2023-03-23' },
    ...overrides,
  };
}

const withStates = () =>
  report({
    status: 'PARTIAL',
    counts: { inserted: 1235, updated: 15, unchanged: 21_570, rejected: 3 },
    levels: {
      nation: { inserted: 1, updated: 3, unchanged: 1150, rejected: 1 },
      state: { inserted: 1234, updated: 12, unchanged: 20_420, rejected: 2 },
    },
    rejections: [
      { level: 'nation', source: 'jhu', rows: 1 },
      { level: 'state', source: 'states', rows: 2 },
    ],
    rejectedRows: [{ source: 'jhu', line: 42, column: 'Recovered', reason: 'Recovered is empty' }],
    geoRejectedRows: [
      { file: 'us-states.csv', line: 7, column: 'cases', value: 'x', reason: 'cases is not a number' },
      { file: 'us-states.csv', line: 9, column: 'date', value: '2020-13-01', reason: 'not a date' },
    ],
  });

describe('etl status text: counts per level', () => {
  it('gives the total, one line per level, why the run is PARTIAL and every rejected row of every level', () => {
    // Act
    const text = formatRunReport(withStates(), 'local');

    // Assess
    const lines = text.split('\n');
    const records = lines.findIndex((line) => line.startsWith('  records'));
    expect(lines.slice(records, records + 3)).toEqual([
      '  records    1,235 inserted, 15 updated, 21,570 unchanged, 3 rejected',
      '    nation   1 inserted, 3 updated, 1,150 unchanged, 1 rejected',
      '    state    1,234 inserted, 12 updated, 20,420 unchanged, 2 rejected',
    ]);
    expect(lines).toContain(
      '  reason     3 rows rejected: 1 in jhu (nation), 2 in us-states.csv (state); every other row loaded',
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        '    jhu line 42 Recovered: Recovered is empty',
        '    us-states.csv line 7 cases: cases is not a number',
        '    us-states.csv line 9 date: not a date',
      ]),
    );
    expect(text).not.toContain('more (--json');
  });

  it('shows a run of the nation alone as before: no level line, no reason', () => {
    // Act
    const text = formatRunReport(
      report({ status: 'PARTIAL', counts: { inserted: 1, updated: 3, unchanged: 1150, rejected: 1 } }),
      'local',
    );

    // Assess
    expect(text).toContain('  records    1 inserted, 3 updated, 1,150 unchanged, 1 rejected\n  chunks     2/2 loaded');
    expect(text).not.toMatch(/\n {4}(nation|state|county) |\n {2}reason /);
  });

  it('gives etl runs one row per level under a run with states', () => {
    // Act
    const lines = formatRunsTable([withStates(), report({ runId: 'm-20261129T100000Z-abc123' })]).split('\n');

    // Assess
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^m-20261130T100000Z-abc123 +PARTIAL +done .* 1,235 +15 +21,570 +3 +1 min 0 s/);
    expect(lines[2]).toMatch(/^ {2}nation +1 +3 +1,150 +1$/);
    expect(lines[3]).toMatch(/^ {2}state +1,234 +12 +20,420 +2$/);
    expect(lines[4]).toMatch(/^m-20261129T100000Z-abc123 +SUCCEEDED/);
    // The counts line up under their headers.
    expect(lines[2]?.indexOf('1,150')).toBe((lines[0]?.indexOf('UNCHANGED') ?? 0) + 'UNCHANGED'.length - 5);
  });

  it('keeps every column of etl runs aligned whatever the size of the counts (a county backfill)', () => {
    // Prepare: a county backfill's counts and chunks beside a small run.
    const backfill = report({
      runId: 's-20261130T000000Z-counties',
      counts: { inserted: 3_583_800, updated: 0, unchanged: 0, rejected: 12 },
      levels: {
        nation: { inserted: 0, updated: 0, unchanged: 1150, rejected: 0 },
        county: { inserted: 3_583_800, updated: 0, unchanged: 0, rejected: 12 },
      },
      chunks: { expected: 3123, loaded: 3123, pending: 0, skipped: 0 },
      durationMs: 4_225_000,
      deadLetterQueues: ['loader'],
    });

    // Act
    const lines = formatRunsTable([backfill, report()]).split('\n');

    // Assess: grouped counts, each right-aligned under its header, the next column after it.
    const [header = '', total = '', , county = '', small = ''] = lines;
    expect(total).toContain(' 3,123/3,123 ');
    expect(county).toMatch(/^ {2}county +3,583,800 +0 +0 +12$/);
    for (const title of ['INSERTED', 'UPDATED', 'UNCHANGED', 'REJECTED']) {
      const end = header.indexOf(title) + title.length;
      for (const line of [total, county, small]) expect(line[end - 1]).toMatch(/\d/);
      for (const line of [total, small]) expect(line[end]).toBe(' ');
    }
    expect(total.indexOf('70 min 25 s')).toBe(header.indexOf('DURATION'));
    expect(small.indexOf('1 min 0 s')).toBe(header.indexOf('DURATION'));
    expect(total.endsWith(' loader')).toBe(true);
  });
});

describe('etl run text: why a run with states is PARTIAL', () => {
  it('names the level and file of the rejected rows under the counts per level', () => {
    // Prepare
    const r = withStates();
    const run = {
      runId: r.runId,
      environment: 'local',
      trigger: 'manual' as const,
      status: 'PARTIAL' as const,
      startedAt: r.startedAt,
      dispatch: 'SENT' as const,
      sources: [],
      months: [],
      skipped: { months: 0, records: 0 },
      summary: {
        runId: r.runId,
        environment: 'local',
        status: 'PARTIAL' as const,
        trigger: 'manual' as const,
        startedAt: r.startedAt,
        counts: r.counts,
        levels: r.levels,
        rejections: r.rejections,
        dateRange: null,
        sources: [],
        chunks: { expected: 2, loaded: 2, skipped: 0 },
        rejectedRows: r.rejectedRows,
      },
    };

    // Act
    const text = formatRunSummary(run);

    // Assess
    expect(text).toContain('    state    1,234 inserted, 12 updated, 20,420 unchanged, 2 rejected\n');
    expect(text).toContain(
      '  reason     3 rows rejected: 1 in jhu (nation), 2 in us-states.csv (state); every other row loaded',
    );
  });
});

const describeReal = sharedDataAvailable() ? describe : describe.skip;

describeReal('etl run --levels state with a bad row in the states file (local stack)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'etl-bad-states-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ends PARTIAL, and etl status --json gives the per-level rejected count, where it came from and the row', async () => {
    // Prepare: the first 1,500 rows of the real states file, with the cases of line 12 made unreadable.
    const lines = readFileSync(snapshotPath('statesEarly'), 'utf8').trim().split('\n').slice(0, 1501);
    const fields = (lines[11] ?? '').split(',');
    fields[3] = 'twelve';
    lines[11] = fields.join(',');
    const file = path.join(work, 'us-states.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const dir = freshStateDir();

    // Act
    const run = await runCli(['run', '--json', '--levels', 'state', '--states-url', file], { ETL_LOCAL_DIR: dir });
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const status = await runCli(['status', runId, '--json'], { ETL_LOCAL_DIR: dir });
    const text = await runCli(['status', runId], { ETL_LOCAL_DIR: dir });

    // Assess
    expect({ code: run.code, stderr: run.code === 3 ? '' : run.stderr }).toEqual({ code: 3, stderr: '' });
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout) as RunReport;
    expect(json.status).toBe('PARTIAL');
    expect(json.counts).toMatchObject({ inserted: 1499, rejected: 1 });
    expect(json.levels?.state).toEqual({ inserted: 1499, updated: 0, unchanged: 0, rejected: 1 });
    expect(json.rejections).toEqual([{ level: 'state', source: 'states', rows: 1 }]);
    expect(json.geoRejectedRows).toEqual([
      expect.objectContaining({ file: 'us-states.csv', line: 12, column: 'cases', value: 'twelve' }),
    ]);
    expect(text.stdout).toContain(`Run ${runId}: PARTIAL (stage: done)`);
    expect(text.stdout).toContain('  reason     1 row rejected: 1 in us-states.csv (state); every other row loaded');
    expect(text.stdout).toMatch(/\n {4}us-states\.csv line 12 cases: /);
  });
});
