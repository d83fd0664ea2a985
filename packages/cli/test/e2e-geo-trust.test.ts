import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readGeoSnapshot, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import { emailSubject, freshStateDir, outbox, runCli } from './helpers/cli.js';

/** A CLI call takes seconds (a fresh process, dynalite, ~20k states rows): these tests make eleven. */
const SLOW = 600_000;

/**
 * End to end on the local stack: a real states file in which one state's cumulative cases fall
 * is HELD as a whole (nothing written), `etl status` and `etl approve` list the states that fell,
 * largest fall first, and `etl approve` loads exactly it; a real rolling counties file from
 * which a county vanishes is HELD naming it.
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

const work = mkdtempSync(path.join(tmpdir(), 'etl-geo-trust-'));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The real 2021-03-18 states file with Texas's cases on its last day set to `cases` (written to a temp dir). */
function lateWithTexasAt(cases: number): { file: string; lastDate: string } {
  return lateWithCasesAt({ '48': cases });
}

/**
 * The real 2021-03-18 states file with the cases of some states (by FIPS) on its last day set
 * to the given values (written to a temp dir), and each such state's cases the day before.
 */
function lateWithCasesAt(cases: Record<string, number>): {
  file: string;
  lastDate: string;
  dayBefore: Map<string, number>;
} {
  const lines = readFileSync(snapshotPath('statesLate'), 'utf8').trimEnd().split('\n');
  const lastDate = (lines.at(-1) as string).split(',')[0] as string;
  const dates = [...new Set(lines.slice(1).map((line) => line.split(',')[0] as string))].sort();
  const previous = dates.at(-2) as string;
  const dayBefore = new Map<string, number>();
  const edited = lines.map((line) => {
    const cells = line.split(',');
    const fips = cells[2] as string;
    if (cells[0] === previous && fips in cases) dayBefore.set(fips, Number(cells[3]));
    return cells[0] === lastDate && fips in cases
      ? [cells[0], cells[1], fips, String(cases[fips]), cells[4]].join(',')
      : line;
  });
  const file = path.join(work, `us-states-${Object.entries(cases).flat().join('-')}.csv`);
  writeFileSync(file, `${edited.join('\n')}\n`);
  return { file, lastDate, dayBefore };
}

async function runStates(dir: string, file: string) {
  const result = await runCli(['run', '--json', '--levels', 'state', '--states-url', file], { ETL_LOCAL_DIR: dir });
  return { ...result, json: JSON.parse(result.stdout || '{}') as Record<string, unknown> & { runId: string } };
}

async function exportedGeo(
  dir: string,
  geo: string,
): Promise<Array<{ date: string; cases: number; deaths: number | null }>> {
  const result = await runCli(['export', '--geo', geo, '--format', 'json'], { ETL_LOCAL_DIR: dir });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Array<{ date: string; cases: number; deaths: number | null }>;
}

/** The series of `geo` in a states file, as `etl export --geo` prints it. */
function seriesIn(file: string, geo: string) {
  return [...readGeoSnapshot(file)]
    .filter(([key]) => key.startsWith(`${geo}|`))
    .map(([key, values]) => ({ date: key.slice(geo.length + 1), ...values }))
    .sort((a, b) => a.date.localeCompare(b.date));
}

describeReal('a states file in which a state falls', () => {
  it(
    'is HELD with nothing written and one email naming the state; status and approve list it; approve loads exactly it',
    async () => {
      // Prepare: the 2020-08-13 states file is loaded; the 2021-03-18 one arrives with Texas's
      // cumulative cases on its last day at 1,000 (a fall of ~2.7 million).
      const dir = freshStateDir();
      const early = snapshotPath('statesEarly');
      expect((await runStates(dir, early)).code).toBe(0);
      const { file, lastDate } = lateWithTexasAt(1_000);

      // Act
      const held = await runStates(dir, file);
      const texasWhileHeld = await exportedGeo(dir, '48');
      const statusWhileHeld = await runCli(['status', held.json.runId], { ETL_LOCAL_DIR: dir });
      const approved = await runCli(['approve', held.json.runId], { ETL_LOCAL_DIR: dir });
      const statusAfter = await runCli(['status', held.json.runId, '--json'], { ETL_LOCAL_DIR: dir });
      const texasAfter = await exportedGeo(dir, '48');
      const californiaAfter = await exportedGeo(dir, '06');

      // Assess: held, nothing written, the state named in one line.
      expect(held.code).toBe(6);
      expect(held.json).toMatchObject({ status: 'HELD', inserted: 0, updated: 0 });
      const reason = String((held.json.failure as { reason: string }).reason);
      expect(reason).not.toMatch(/\n/);
      expect(reason).toMatch(
        new RegExp(
          `^Held: the snapshot tripped 1 data-quality gate\\(s\\): states \\(us-states\\.csv\\): a cumulative count falls .* in 1 state: Texas \\(48\\): cases [\\d,]+ on \\d{4}-\\d{2}-\\d{2} → 1,000 on ${lastDate}`,
        ),
      );
      expect(texasWhileHeld).toEqual(seriesIn(early, '48'));
      const mails = outbox(dir);
      expect(emailSubject(mails[1] as string)).toMatch(/HELD: Held: the snapshot tripped 1 data-quality gate/);
      expect(readFileSync(mails[1] as string, 'utf8')).toContain('Texas (48)');

      // Assess: etl status lists Texas under its gate, with its figures, one line.
      const texasTrip = new RegExp(
        `^ {4}Texas \\(48\\): cases [\\d,]+ on \\d{4}-\\d{2}-\\d{2} → 1,000 on ${lastDate}$`,
      );
      const lines = statusWhileHeld.stdout.split('\n');
      const header = lines.indexOf('  trips      cumulative-fall (states): 1 state, largest fall first');
      expect(lines[header - 1]).toMatch(/^ {2}gate {7}cumulative-fall: states \(us-states\.csv\): /);
      expect(lines[header + 1]).toMatch(texasTrip);
      expect(lines[header + 2]).toBe(`  decide     pnpm etl approve ${held.json.runId}  (load exactly this snapshot)`);

      // Assess: approve shows the gate and Texas before deciding, and loads exactly the held snapshot.
      expect(approved.code).toBe(0);
      const brief = approved.stderr.split('\n');
      expect(brief[0]).toBe(`Run ${held.json.runId} is HELD:`);
      expect(brief.slice(2, 4)).toEqual([
        '  trips      cumulative-fall (states): 1 state, largest fall first',
        expect.stringMatching(texasTrip),
      ]);
      expect(approved.stderr.indexOf('is HELD:')).toBeLessThan(approved.stderr.indexOf('Approving'));
      expect(approved.stdout).toContain(`Run ${held.json.runId}: SUCCEEDED`);
      // The list is kept after the decision.
      expect(JSON.parse(statusAfter.stdout)).toMatchObject({
        status: 'SUCCEEDED',
        decision: { action: 'approve' },
        gates: [{ gate: 'cumulative-fall' }],
        geoTrips: [
          { gate: 'cumulative-fall', level: 'state', geo: '48', message: expect.stringMatching(/^Texas \(48\): /) },
        ],
      });
      expect(texasAfter).toEqual(seriesIn(file, '48'));
      expect(texasAfter.at(-1)).toEqual(expect.objectContaining({ date: lastDate, cases: 1_000 }));
      expect(californiaAfter).toEqual(seriesIn(file, '06'));
    },
    SLOW,
  );

  it(
    'status lists every state that fell, largest fall first, bounded by --trips; reject leaves every state as loaded',
    async () => {
      // Prepare
      const dir = freshStateDir();
      const early = snapshotPath('statesEarly');
      await runStates(dir, early);
      // Four states fall on the last day, each by a different amount.
      const late = lateWithCasesAt({ '48': 2_000, '06': 1_000, '36': 1_000, '12': 1_000 });
      const held = await runStates(dir, late.file);

      // Act
      const status = await runCli(['status', held.json.runId, '--trips', '2'], { ETL_LOCAL_DIR: dir });
      const json = await runCli(['status', held.json.runId, '--json'], { ETL_LOCAL_DIR: dir });
      const rejected = await runCli(['reject', held.json.runId], { ETL_LOCAL_DIR: dir });

      // Assess: the largest falls first (computed here from the file), two shown, the rest counted.
      const byFall = [...late.dayBefore]
        .map(([fips, before]) => ({ fips, fall: before - (fips === '48' ? 2_000 : 1_000) }))
        .sort((a, b) => b.fall - a.fall)
        .map(({ fips }) => fips);
      const lines = status.stdout.split('\n');
      const header = lines.indexOf('  trips      cumulative-fall (states): 4 states, largest fall first');
      expect(header).toBeGreaterThan(0);
      expect(lines.slice(header + 1, header + 3).map((line) => /\((\d{2})\): cases /.exec(line)?.[1])).toEqual(
        byFall.slice(0, 2),
      );
      expect(lines[header + 3]).toBe(`    … and 2 more: pnpm etl status ${held.json.runId} --trips all`);
      const report = JSON.parse(json.stdout) as { geoTrips: Array<{ geo: string; message: string }> };
      expect(report.geoTrips.map((trip) => trip.geo)).toEqual(byFall);
      expect(held.json.status).toBe('HELD');
      expect(rejected.code).toBe(0);
      expect(rejected.stdout).toContain(`Run ${held.json.runId}: REJECTED`);
      expect(await exportedGeo(dir, '48')).toEqual(seriesIn(early, '48'));
      expect(await exportedGeo(dir, '06')).toEqual(seriesIn(early, '06'));
    },
    SLOW,
  );
});

describeReal('a stale states file', () => {
  it(
    'is held when it ends before the loaded series, or starts after it, though it changes no day, naming each state',
    async () => {
      // Prepare: the real 2021-03-18 file loaded; then its rows up to 2020-12-31 exactly (an old
      // copy: every day in it as loaded, under another URL, so no source baseline applies); and
      // its rows from 2020-06-01 on (a full file that lost its first months).
      const dir = freshStateDir();
      const late = snapshotPath('statesLate');
      const lines = readFileSync(late, 'utf8').trimEnd().split('\n');
      const cut = (name: string, keep: (date: string) => boolean) => {
        const file = path.join(work, name);
        writeFileSync(file, `${lines.filter((line, i) => i === 0 || keep(line.slice(0, 10))).join('\n')}\n`);
        return file;
      };
      const loaded = await runStates(dir, late);
      const lastLoaded = (lines.at(-1) as string).slice(0, 10);

      const ends = cut('us-states-ends.csv', (date) => date <= '2020-12-31');
      const starts = cut('us-states-starts.csv', (date) => date >= '2020-06-01');

      // Act
      const endsEarly = await runStates(dir, ends);
      const rejected = await runCli(['reject', endsEarly.json.runId], { ETL_LOCAL_DIR: dir });
      const startsLate = await runStates(dir, starts);

      // Assess: HELD (not SUCCEEDED "unchanged"), every state named, nothing written.
      expect(loaded.json.status).toBe('SUCCEEDED');
      expect(rejected.code).toBe(0);
      const reason = (result: { json: Record<string, unknown> }) =>
        String((result.json.failure as { reason?: string } | undefined)?.reason ?? '');
      const states = new Set(lines.slice(1).map((line) => line.split(',')[2]));
      expect(endsEarly.json).toMatchObject({ status: 'HELD', inserted: 0, updated: 0 });
      expect(reason(endsEarly)).toContain(`the file ends before the loaded series in ${states.size} states:`);
      expect(reason(endsEarly)).toContain(
        `Alabama (01): last date 2020-12-31 is earlier than the loaded ${lastLoaded}`,
      );
      expect(startsLate.json).toMatchObject({ status: 'HELD', inserted: 0, updated: 0 });
      expect(reason(startsLate)).toMatch(/loaded dates are missing from the file in \d+ states: /);
      const alabama = lines.filter((line) => line.includes(',Alabama,01,') && line.slice(0, 10) < '2020-06-01');
      expect(reason(startsLate)).toContain(
        `Alabama (01): ${alabama.length} loaded date(s) missing (${alabama[0]?.slice(0, 10)} to 2020-05-31)`,
      );
      expect(await exportedGeo(dir, '48')).toEqual(seriesIn(late, '48'));
    },
    SLOW,
  );
});

/**
 * Delaware's rows of the real rolling counties file (2021-02-16..2021-03-17: Kent, New Castle,
 * Sussex, Unknown), written to a temp dir; `without` drops a county's rows; `raise` adds 5 cases
 * to New Castle's (10003) last day.
 */
function delawareCounties(name: string, without?: string, raise = false): string {
  const lines = readFileSync(snapshotPath('countiesRecent'), 'utf8').trimEnd().split('\n');
  const kept = lines.flatMap((line, i) => {
    const cells = line.split(',');
    if (i === 0) return [line];
    if (cells[2] !== 'Delaware' || cells[3] === without) return [];
    if (raise && cells[0] === '2021-03-17' && cells[3] === '10003') cells[4] = String(Number(cells[4]) + 5);
    return [cells.join(',')];
  });
  const file = path.join(work, name);
  writeFileSync(file, `${kept.join('\n')}\n`);
  return file;
}

async function runCounties(dir: string, file: string) {
  const result = await runCli(['run', '--json', '--levels', 'county', '--counties-recent-url', file], {
    ETL_LOCAL_DIR: dir,
  });
  return { ...result, json: JSON.parse(result.stdout || '{}') as Record<string, unknown> & { runId: string } };
}

describeReal('a rolling counties file from which a county vanishes', () => {
  it(
    'is HELD naming the county and its dates; reject leaves the table as it was; approve loads, keeping its values',
    async () => {
      // Prepare: Delaware's counties loaded; the next file lacks Kent (10001) on all its 30 loaded dates.
      const dir = freshStateDir();
      const full = delawareCounties('de.csv');
      expect((await runCounties(dir, full)).code).toBe(0);
      const vanished = delawareCounties('de-without-kent.csv', '10001');
      const kentLoaded = await exportedGeo(dir, '10001');

      // Act: held, rejected; held again by the next run, approved; then New Castle's last day revised.
      const held = await runCounties(dir, vanished);
      const rejected = await runCli(['reject', held.json.runId], { ETL_LOCAL_DIR: dir });
      const kentAfterReject = await exportedGeo(dir, '10001');
      const heldAgain = await runCounties(dir, vanished);
      const approved = await runCli(['approve', heldAgain.json.runId, '--json'], { ETL_LOCAL_DIR: dir });
      const kentAfterApprove = await exportedGeo(dir, '10001');
      const newCastleAfterApprove = await exportedGeo(dir, '10003');
      const revised = await runCounties(dir, delawareCounties('de-without-kent-revised.csv', '10001', true));

      // Assess: held, the county named with its dates and the file in one line.
      expect(kentLoaded).toEqual(seriesIn(full, '10001'));
      expect(kentLoaded).toHaveLength(30);
      expect(held.code).toBe(6);
      expect(held.json).toMatchObject({ status: 'HELD', inserted: 0, updated: 0 });
      const reason = String((held.json.failure as { reason: string }).reason);
      expect(reason).toBe(
        'Held: the snapshot tripped 1 data-quality gate(s): counties (us-counties-recent.csv): geographies loaded on a date ' +
          'are missing from the file on that date in 1 county: County 10001, Delaware (10001): absent on 30 loaded date(s) ' +
          `(2021-02-16 to 2021-03-17). Nothing was loaded. Load it anyway with \`pnpm etl approve ${held.json.runId}\`, ` +
          `or end it with \`pnpm etl reject ${held.json.runId}\`.`,
      );

      // Assess: reject changes nothing; the next run is held again.
      expect(rejected.code).toBe(0);
      expect(kentAfterReject).toEqual(kentLoaded);
      expect(heldAgain.json.status).toBe('HELD');

      // Assess: approve loads the file and Kent's loaded values stay; a later revision of a day
      // Kent is absent from is not held again (the day's counties were recorded without it).
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.stdout)).toMatchObject({
        status: 'SUCCEEDED',
        decision: { action: 'approve' },
        gates: [{ gate: 'missing-geographies' }],
      });
      expect(kentAfterApprove).toEqual(kentLoaded);
      expect(newCastleAfterApprove).toEqual(seriesIn(vanished, '10003'));
      expect(revised.json).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    },
    SLOW,
  );
});
