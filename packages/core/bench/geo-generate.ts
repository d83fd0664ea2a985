/**
 * Writes a synthetic full NYT county file (`us-counties.csv`) with the real shape, and the
 * matching rolling file of its last days (`us-counties-recent.csv`), for benchmarks and scale
 * tests. Never commit what it writes.
 *
 *   pnpm --filter @covid-etl/core exec tsx bench/geo-generate.ts [--out DIR] [--series N] [--days N]
 *
 * Shape: the FIPS codes (and county names) of the real April 2020 county file, filled up to
 * `--series` with unused odd county codes of the same states, plus the publisher's rows without
 * FIPS (`Unknown` in every state, `New York City`, `Kansas City`, `Joplin`); one row per series
 * and day from 2020-01-21 for `--days` days, ordered like the publisher's (date, then state,
 * then county); cumulative cases and deaths that never fall, with empty deaths for the Puerto
 * Rico municipios (as in the real recent file). Deterministic for a given `--seed`. Progress
 * goes to stderr; the two paths and the counts are printed on stdout (`--json`: one JSON line).
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SPECIAL_COUNTIES, STATES, stateByFips } from '@covid-etl/contracts';
import { snapshotPath } from '@covid-etl/testing';
import { extractGeoRows } from '../src/index.js';

const HELP = `Usage: tsx bench/geo-generate.ts [options]

Writes a synthetic us-counties.csv (~3,200 series x 1,100 days, ~3.5 M rows, ~150 MB) and
us-counties-recent.csv (its last 30 days) into a folder. Never commit them.

  --out DIR          folder to write into (default: a new folder under ${os.tmpdir()})
  --series N         series with a FIPS code (default 3200; the April 2020 file has 2,722)
  --days N           days from 2020-01-21 (default 1100)
  --recent-days N    days in the recent file (default 30)
  --fips-from FILE   county file whose FIPS codes and names to use (default: the April 2020 snapshot)
  --seed N           random seed (default 13)
  --json             print the result as one JSON line
  -h, --help         this help`;

export interface GeneratedCounties {
  dir: string;
  full: string;
  recent: string;
  series: number;
  days: number;
  rows: number;
  recentRows: number;
  bytes: number;
}

export interface GenerateOptions {
  out?: string;
  series?: number;
  days?: number;
  recentDays?: number;
  fipsFrom?: string;
  seed?: number;
  /** Called every ~100 days with the days written so far. */
  progress?: (daysWritten: number, days: number) => void;
}

interface Series {
  state: string;
  stateName: string;
  county: string;
  fips: string;
  /** Scale of the series (people), for plausible counts. */
  size: number;
  cases: number;
  deaths: number;
  /** Deaths not reported (Puerto Rico municipios). */
  noDeaths: boolean;
}

/** Generates the two files; see the module comment. */
export async function generateCounties(options: GenerateOptions = {}): Promise<GeneratedCounties> {
  const days = options.days ?? 1100;
  const recentDays = Math.min(options.recentDays ?? 30, days);
  const random = mulberry32(options.seed ?? 13);
  const dir = options.out ?? mkdtempSync(path.join(os.tmpdir(), 'covid-etl-counties-'));
  mkdirSync(dir, { recursive: true });
  const series = await seriesOf(options.fipsFrom ?? snapshotPath('countiesApril'), options.series ?? 3200, random);

  const full = path.join(dir, 'us-counties.csv');
  const recent = path.join(dir, 'us-counties-recent.csv');
  const fullOut = createWriteStream(full);
  const recentOut = createWriteStream(recent);
  const header = 'date,county,state,fips,cases,deaths\n';
  let bytes = await write(fullOut, header);
  await write(recentOut, header);
  let rows = 0;
  let recentRows = 0;
  const first = Date.parse('2020-01-21T00:00:00Z');
  for (let day = 0; day < days; day++) {
    const date = new Date(first + day * 86_400_000).toISOString().slice(0, 10);
    // An epidemic in waves: the daily growth rate of cases rises and falls.
    const wave = 0.01 + 0.03 * Math.max(0, Math.sin((day / 365) * 2 * Math.PI * 1.5)) ** 2;
    const lines: string[] = [];
    for (const one of series) {
      if (day === 0 || random() < 0.02) one.cases += Math.round(one.size * 0.0005 * random());
      // Logistic: growth slows as cases near a third of the series' size.
      one.cases += Math.round(one.cases * wave * random() * 2 * Math.max(0, 1 - one.cases / (0.35 * one.size)));
      one.deaths += Math.round((one.cases * 0.015 - one.deaths) * 0.1 * random());
      lines.push(`${date},${one.county},${one.stateName},${one.fips},${one.cases},${one.noDeaths ? '' : one.deaths}`);
    }
    const text = `${lines.join('\n')}\n`;
    bytes += await write(fullOut, text);
    rows += lines.length;
    if (day >= days - recentDays) {
      await write(recentOut, text);
      recentRows += lines.length;
    }
    if ((day + 1) % 100 === 0 || day === days - 1) options.progress?.(day + 1, days);
  }
  await Promise.all([close(fullOut), close(recentOut)]);
  return { dir, full, recent, series: series.length, days, rows, recentRows, bytes };
}

/** The series: real FIPS and names from `file`, filled to `target` codes, plus the rows without FIPS; in the publisher's order. */
async function seriesOf(file: string, target: number, random: () => number): Promise<Series[]> {
  const real = new Map<string, string>();
  const stateSet = new Set<string>();
  for await (const result of extractGeoRows(createReadStream(file), { kind: 'counties', file: path.basename(file) })) {
    if (!result.ok) continue;
    stateSet.add(result.record.geo.slice(0, 2));
    if (/^\d{5}$/.test(result.record.geo)) real.set(result.record.geo, '');
  }
  // County names: the file's county column for the codes kept (a second, plain pass).
  for await (const line of lines(file)) {
    const [, county, , fips] = line.split(',');
    if (fips && real.has(fips)) real.set(fips, county ?? '');
  }
  // Fewer series than the file has: every k-th code, so every region stays represented.
  const codes = [...real.keys()].sort();
  const step = Math.max(1, Math.ceil(codes.length / target));
  const names = new Map(codes.filter((_, index) => index % step === 0).map((fips) => [fips, real.get(fips) ?? '']));
  // More: unused odd county codes, one state after the other.
  const states = [...stateSet].sort();
  for (let code = 1; names.size < target && code < 1000; code += 2) {
    for (const state of states) {
      const fips = `${state}${String(code).padStart(3, '0')}`;
      if (names.size < target && !real.has(fips)) names.set(fips, `Synthetic ${fips}`);
    }
  }
  const all: Omit<Series, 'size' | 'cases' | 'deaths' | 'noDeaths'>[] = [...names].map(([fips, county]) => {
    const state = stateByFips(fips.slice(0, 2));
    return { state: fips.slice(0, 2), stateName: state?.name ?? '', county, fips };
  });
  for (const state of STATES.filter((one) => states.includes(one.fips))) {
    all.push({ state: state.fips, stateName: state.name, county: 'Unknown', fips: '' });
  }
  for (const area of Object.values(SPECIAL_COUNTIES)) {
    if (area.state !== undefined) {
      all.push({ state: area.state, stateName: stateByFips(area.state)?.name ?? '', county: area.county, fips: '' });
    }
  }
  all.sort((a, b) => compare(a.stateName, b.stateName) || compare(a.county, b.county));
  return all.map((one) => ({
    ...one,
    size: Math.round(5_000 + 2_000_000 * random() ** 4),
    cases: 0,
    deaths: 0,
    noDeaths: one.state === '72' && one.fips !== '',
  }));
}

async function* lines(file: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
  if (rest !== '') yield rest;
}

async function write(out: WriteStream, text: string): Promise<number> {
  if (!out.write(text)) await once(out, 'drain');
  return Buffer.byteLength(text);
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A small deterministic PRNG (mulberry32): the same seed writes the same files. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a whole number >= 1, got "${text}"`);
    process.exit(2);
  }
  return value;
}

// Run as a command (not imported, nor bundled into another script, whose own file is argv[1]).
if (import.meta.url === `file://${process.argv[1]}` && /geo-generate\.[jt]s$/.test(process.argv[1] ?? '')) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      series: { type: 'string' },
      days: { type: 'string' },
      'recent-days': { type: 'string' },
      'fips-from': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const started = performance.now();
  const options: GenerateOptions = {
    progress: (done, total) =>
      console.error(`generated ${done}/${total} days (${((performance.now() - started) / 1000).toFixed(1)} s)`),
  };
  if (values.out !== undefined) options.out = path.resolve(values.out);
  if (values['fips-from'] !== undefined) options.fipsFrom = values['fips-from'];
  for (const [key, name] of [
    ['series', 'series'],
    ['days', 'days'],
    ['recentDays', 'recent-days'],
    ['seed', 'seed'],
  ] as const) {
    const value = positive(name, values[name]);
    if (value !== undefined) options[key] = value;
  }
  const result = await generateCounties(options);
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `${result.full}: ${result.rows} rows, ${result.series} series x ${result.days} days, ${(result.bytes / 1e6).toFixed(1)} MB`,
    );
    console.log(
      `${result.recent}: ${result.recentRows} rows (the last ${Math.min(options.recentDays ?? 30, result.days)} days)`,
    );
  }
}
