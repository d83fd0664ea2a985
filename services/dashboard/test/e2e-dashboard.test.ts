import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startLocalDynamo } from '@covid-etl/local-stack';
import {
  type ExpectedRecord,
  expectedSeries,
  type SourceServer,
  sharedDataAvailable,
  snapshotPath,
  startSourceServer,
} from '@covid-etl/testing';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import playwright, { type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import type { SeriesResponse, StatusResponse } from '../src/api-types.js';
import {
  DASHBOARD_SERVER,
  freshDir,
  PACKAGE_DIR,
  REPO_ROOT,
  runEtl,
  runTs,
  type Served,
  serve,
} from './helpers/processes.js';
import { unzip } from './helpers/unzip.js';

/**
 * End to end: the real snapshots loaded by the real `etl run` on the local stack, the
 * dashboard served by `pnpm dashboard` (packages/local-pipeline/src/dashboard-server.ts) on that state folder, the page
 * opened in headless Chromium (Debian's /usr/bin/chromium through playwright-core). Then the
 * same page served by the built Lambda bundle (dist/dashboard.zip's index.mjs) against the same
 * tables. Screenshots go to test-output/dashboard/ at the repository root.
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

// A browser, a bundle build and child processes: more than the preset's 30 s on a slow machine.
jest.setTimeout(120_000);

const SHOTS = path.join(REPO_ROOT, 'test-output', 'dashboard');
const LAST_DATE = '2021-03-16';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 }, locale: 'en-US' };
const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
};

const us = (n: number) => n.toLocaleString('en-US');

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await playwright.chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

/** Opens a page, failing the test on any console error or uncaught exception in it. */
async function open(url: string, options: BrowserContextOptions) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(url);
  return { page, problems, close: () => context.close() };
}

/**
 * Moves the pointer (or taps) across the right end of a chart until its tooltip shows the last
 * day; returns the tooltip's date and text.
 */
async function pointAtLastDay(page: Page, chart: string, touch = false) {
  const canvas = page.locator(`#chart-${chart}`);
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox()) as Box;
  const tooltip = page.locator(`#tooltip-${chart}`);
  let seen = { date: null as string | null, text: null as string | null };
  for (let x = box.x + box.width - 24; x < box.x + box.width; x += 1) {
    if (touch) await page.touchscreen.tap(x, box.y + box.height / 2);
    else await page.mouse.move(x, box.y + box.height / 2);
    if (await tooltip.isVisible()) {
      seen = { date: await tooltip.getAttribute('data-date'), text: await tooltip.textContent() };
      if (seen.date === LAST_DATE) break;
    }
  }
  return seen;
}

const ready = (page: Page) => page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });

/** The NYT row of a date, read straight from the CSV. */
function nytRow(date: string): { cases: number; deaths: number } {
  const line = readFileSync(snapshotPath('nytFinal'), 'utf8')
    .split(/\r?\n/)
    .find((row) => row.startsWith(`${date},`));
  if (!line) throw new Error(`no ${date} in the NYT snapshot`);
  const [, cases, deaths] = line.split(',');
  return { cases: Number(cases), deaths: Number(deaths) };
}

describeReal('the dashboard on the real snapshots', () => {
  let sources: SourceServer;
  let stateDir: string;
  let dashboard: Served;
  let expected: ExpectedRecord[];

  beforeAll(async () => {
    sources = await startSourceServer({
      '/nyt.csv': { file: snapshotPath('nytFinal') },
      '/jhu.csv': { file: snapshotPath('jhuFinal') },
    });
    stateDir = freshDir('dashboard-e2e-');
    const run = await runEtl(
      ['run', '--json', '--nyt-url', sources.url('/nyt.csv'), '--jhu-url', sources.url('/jhu.csv')],
      {
        ETL_LOCAL_DIR: stateDir,
      },
    );
    if (run.code !== 0) throw new Error(`etl run failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
    expected = expectedSeries(snapshotPath('nytFinal'), snapshotPath('jhuFinal'));
    dashboard = await serve(DASHBOARD_SERVER, ['--port', '0'], { ETL_LOCAL_DIR: stateDir });
  }, 180_000);

  afterAll(async () => {
    await dashboard?.stop('SIGTERM');
    await sources?.close();
  });

  it('prints its URL on 127.0.0.1 and what the tables hold', () => {
    // Assess
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(dashboard.output().stdout).toContain(`data: 420 days, 2020-01-22 to ${LAST_DATE}, from ${stateDir}`);
  });

  it('shows the last date and its NYT values, the not-reported note, the run and the sources (desktop)', async () => {
    // Prepare
    const nyt = nytRow(LAST_DATE);
    const last = expected.at(-1) as ExpectedRecord;
    const { page, problems, close } = await open(dashboard.url, DESKTOP);

    // Act
    await ready(page);
    await page.waitForFunction(() => document.getElementById('run-status')?.textContent !== '…');

    // Assess: the totals of the last day.
    expect(last.date).toBe(LAST_DATE);
    expect(await page.getAttribute('[data-testid="last-date"]', 'datetime')).toBe(LAST_DATE);
    expect(await page.textContent('[data-testid="last-date"]')).toBe('Mar 16, 2021');
    expect(await page.getAttribute('[data-testid="last-cases"]', 'data-value')).toBe(String(nyt.cases));
    expect(await page.textContent('[data-testid="last-cases"]')).toBe(us(nyt.cases));
    expect(await page.textContent('[data-testid="last-deaths"]')).toBe(us(nyt.deaths));
    expect(await page.textContent('[data-testid="last-recovered"]')).toBe('Not reported');
    // The charts: 420 days up to the last date; the recovered line ends on 2020-12-13.
    const cumulative = page.locator('[data-testid="chart-cumulative"]');
    expect(await cumulative.getAttribute('data-points')).toBe('420');
    expect(await cumulative.getAttribute('data-last-date')).toBe(LAST_DATE);
    expect(await cumulative.getAttribute('data-recovered-last-date')).toBe('2020-12-13');
    for (const id of ['deaths', 'daily-cases', 'daily-deaths']) {
      expect(await page.getAttribute(`[data-testid="chart-${id}"]`, 'data-last-date')).toBe(LAST_DATE);
    }
    expect(await page.getAttribute('#chart-cumulative', 'aria-label')).toContain(`${us(nyt.cases)} on the last day`);
    // The note, the run, the freshness and the attribution.
    const note = page.locator('[data-testid="recovered-note"]');
    expect(await note.isVisible()).toBe(true);
    expect(await note.textContent()).toContain(
      'from 2020-12-14 Johns Hopkins no longer reports US recoveries: shown as not reported, not as zero',
    );
    expect(await page.textContent('[data-testid="run-status"]')).toBe('SUCCEEDED');
    expect(await page.textContent('#run-counts')).toContain('420 new, 0 updated');
    expect(await page.getAttribute('[data-testid="data-through"]', 'data-date')).toBe(LAST_DATE);
    const footer = (await page.textContent('footer')) ?? '';
    expect(footer).toContain('The New York Times');
    expect(footer).toContain('CC BY-NC 4.0');
    expect(footer).toContain('Johns Hopkins CSSE via datasets/covid-19');
    expect(await page.title()).toBe('US COVID-19 cases, deaths and recoveries');
    await page.screenshot({ path: path.join(SHOTS, 'desktop.png'), fullPage: true });
    expect(problems).toEqual([]);
    await close();
  });

  it('shows the values of the hovered day in a tooltip, also from the keyboard', async () => {
    // Prepare
    const nyt = nytRow(LAST_DATE);
    const mid = expected.find((r) => r.date === '2020-10-01') as ExpectedRecord;
    const { page, problems, close } = await open(dashboard.url, DESKTOP);
    await ready(page);
    const tooltip = page.locator('#tooltip-cumulative');

    // Act: the right end of the chart is the last day.
    const atEnd = await pointAtLastDay(page, 'cumulative');
    await page.screenshot({ path: path.join(SHOTS, 'desktop-tooltip.png') });
    // Then a day when recoveries were reported: find it by moving along the axis (the box is
    // read after pointAtLastDay scrolled the chart into view).
    const canvas = (await page.locator('#chart-cumulative').boundingBox()) as Box;
    let text = '';
    for (let x = canvas.x + canvas.width * 0.55; x < canvas.x + canvas.width; x += 2) {
      await page.mouse.move(x, canvas.y + canvas.height / 2);
      if ((await tooltip.getAttribute('data-date')) === mid.date) {
        text = (await tooltip.textContent()) ?? '';
        break;
      }
    }

    // And from the keyboard: End, then one day back.
    await page.focus('#chart-deaths');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    const keyed = page.locator('#tooltip-deaths');
    await keyed.waitFor({ state: 'visible', timeout: 5_000 });
    const dayBefore = expected.at(-2) as ExpectedRecord;

    // Assess
    expect(await keyed.getAttribute('data-date')).toBe(dayBefore.date);
    expect(await keyed.textContent()).toContain(`Deaths${us(dayBefore.deaths)}`);
    expect(atEnd.date).toBe(LAST_DATE);
    expect(atEnd.text).toContain('Tue, Mar 16, 2021');
    expect(atEnd.text).toContain(`Cases${us(nyt.cases)}`);
    expect(atEnd.text).toContain('Recoverednot reported');
    expect(text).toContain(`Cases${us(mid.cases)}`);
    expect(text).toContain(`Recovered${us(mid.recovered)}`);
    expect(problems).toEqual([]);
    await close();
  });

  it('changes the date range with a preset and with the date fields, through the API', async () => {
    // Prepare
    const { page, problems, close } = await open(dashboard.url, DESKTOP);
    await ready(page);
    const cumulative = page.locator('[data-testid="chart-cumulative"]');

    // Act: "90 days" ends on the last day.
    const request = page.waitForRequest((r) => r.url().includes('/api/series?from=2020-12-17&to=2021-03-16'));
    await page.click('button[data-preset="90"]');
    await request;
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="chart-cumulative"]')?.getAttribute('data-first-date') === '2020-12-17',
    );
    const preset = {
      points: await cumulative.getAttribute('data-points'),
      from: await page.inputValue('#from'),
      pressed: await page.getAttribute('button[data-preset="90"]', 'aria-pressed'),
      hash: new URL(page.url()).hash,
    };
    // Then June 2020 typed in the fields: before recoveries stopped being reported.
    await page.fill('#to', '2020-06-30');
    await page.fill('#from', '2020-06-01');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="chart-cumulative"]')?.getAttribute('data-first-date') === '2020-06-01',
    );
    const june = expected.find((r) => r.date === '2020-06-30') as ExpectedRecord;

    // Assess
    expect(preset).toEqual({
      points: '90',
      from: '2020-12-17',
      pressed: 'true',
      hash: '#from=2020-12-17&to=2021-03-16',
    });
    expect(await cumulative.getAttribute('data-last-date')).toBe('2020-06-30');
    expect(await cumulative.getAttribute('data-points')).toBe('30');
    expect(await page.textContent('[data-testid="last-date"]')).toBe('Jun 30, 2020');
    expect(await page.textContent('[data-testid="last-cases"]')).toBe(us(june.cases));
    expect(await page.textContent('[data-testid="last-recovered"]')).toBe(us(june.recovered));
    expect(await page.locator('[data-testid="recovered-note"]').isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await close();
  });

  it('renders on a phone-sized screen (390x844) without horizontal overflow, with tooltips on tap', async () => {
    // Prepare
    const { page, problems, close } = await open(dashboard.url, PHONE);
    await ready(page);

    // Act
    const widths = await page.evaluate(() => ({
      document: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      widest: Math.max(
        ...[...document.querySelectorAll('main *, header *, footer *')].map((e) => e.getBoundingClientRect().right),
      ),
    }));
    await page.screenshot({ path: path.join(SHOTS, 'phone.png'), fullPage: true });
    const tapped = await pointAtLastDay(page, 'daily-cases', true);
    await page.screenshot({ path: path.join(SHOTS, 'phone-tooltip.png') });

    // Assess
    expect(widths.viewport).toBe(390);
    expect(widths.document).toBeLessThanOrEqual(390);
    expect(widths.widest).toBeLessThanOrEqual(390);
    expect(tapped.date).toBe(LAST_DATE);
    expect(tapped.text).toContain('7-day average');
    expect(await page.isVisible('[data-testid="recovered-note"]')).toBe(true);
    expect(problems).toEqual([]);
    await close();
  });

  it('draws in dark mode too', async () => {
    // Prepare
    const { page, problems, close } = await open(dashboard.url, { ...DESKTOP, colorScheme: 'dark' });

    // Act
    await ready(page);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.screenshot({ path: path.join(SHOTS, 'desktop-dark.png'), fullPage: true });

    // Assess
    expect(background).toBe('rgb(13, 17, 23)');
    expect(problems).toEqual([]);
    await close();
  });

  it('answers the API: a bad date with 400 and its message, the status of the run', async () => {
    // Act
    const bad = await fetch(`${dashboard.url}api/series?from=2020-13-01`);
    const status = (await (await fetch(`${dashboard.url}api/status`)).json()) as StatusResponse;
    const series = (await (await fetch(`${dashboard.url}api/series?from=${LAST_DATE}`)).json()) as SeriesResponse;

    // Assess
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'from: expected a date as YYYY-MM-DD, got "2020-13-01"' });
    expect(status.latestRun).toMatchObject({ status: 'SUCCEEDED', counts: { inserted: 420, updated: 0, rejected: 0 } });
    expect(status.data).toMatchObject({ firstDate: '2020-01-22', lastDate: LAST_DATE, days: 420 });
    expect(series.series).toHaveLength(1);
    expect(series.series[0]).toMatchObject({ date: LAST_DATE, ...nytRow(LAST_DATE), recovered: null });
    expect(series.recoveredNotReportedFrom).toBe('2020-12-14');
  });

  it('stops cleanly on Ctrl-C (SIGINT), closing the embedded database', async () => {
    // Act
    const finished = await dashboard.stop('SIGINT');

    // Assess
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('Dashboard stopped (SIGINT).');
    expect(existsSync(path.join(stateDir, 'dynamodb', 'local-stack.pid'))).toBe(false);
  });

  it('serves the same page from the Lambda bundle (dist/dashboard.zip index.mjs) on the same tables', async () => {
    // Prepare: build the zip, take index.mjs out of it, point it at the state folder's tables.
    const build = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/bundle.mjs')], {
        cwd: PACKAGE_DIR,
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(build).toBe(0);
    const files = unzip(path.join(PACKAGE_DIR, 'dist', 'dashboard.zip'));
    // The code-split bundle: the handler, the chunks it imports, and a lean map beside each.
    const code = [...files.keys()].filter((file) => file.endsWith('.mjs')).sort();
    expect(code).toContain('index.mjs');
    expect(code.filter((file) => file !== 'index.mjs').every((file) => /^chunk-[A-Z0-9]+\.mjs$/.test(file))).toBe(true);
    expect([...files.keys()].sort()).toEqual(code.flatMap((file) => [file, `${file}.map`]).sort());
    // The zip stays small: its maps name our sources only; the full maps are the separate artifact.
    expect(readFileSync(path.join(PACKAGE_DIR, 'dist', 'dashboard.zip')).length).toBeLessThanOrEqual(400_000);
    const leanMap = JSON.parse(String(files.get('index.mjs.map'))) as { sources: string[]; sourcesContent?: unknown };
    expect(leanMap.sources.filter((source) => source.includes('node_modules'))).toEqual([]);
    expect(leanMap.sources).toContain('../../src/handler.ts');
    expect(leanMap.sourcesContent).toBeUndefined();
    for (const file of code) {
      const fullMap = JSON.parse(
        readFileSync(path.join(PACKAGE_DIR, 'dist', 'dashboard.maps', `${file}.map`), 'utf8'),
      ) as {
        sources: string[];
        sourcesContent: string[];
      };
      expect(fullMap.sourcesContent).toHaveLength(fullMap.sources.length);
    }
    const bundleDir = freshDir('dashboard-bundle-');
    for (const [file, content] of files) writeFileSync(path.join(bundleDir, file), content);
    const dynamo = await startLocalDynamo({ dir: path.join(stateDir, 'dynamodb') });
    const lambda = await serve(
      'test/helpers/zip-server.ts',
      [path.join(bundleDir, 'index.mjs')],
      {
        ETL_ENVIRONMENT: 'local',
        DATA_TABLE: 'covid-etl-local-data',
        LEDGER_TABLE: 'covid-etl-local-ledger',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_REGION: 'local',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
      { label: 'Bundle' },
    );
    try {
      const { page, problems, close } = await open(lambda.url, DESKTOP);

      // Act
      await ready(page);

      // Assess
      expect(await page.getAttribute('[data-testid="last-date"]', 'datetime')).toBe(LAST_DATE);
      expect(await page.textContent('[data-testid="last-cases"]')).toBe(us(nytRow(LAST_DATE).cases));
      expect(await page.getAttribute('[data-testid="chart-cumulative"]', 'data-recovered-last-date')).toBe(
        '2020-12-13',
      );
      expect(problems).toEqual([]);
      await close();
    } finally {
      await lambda.stop('SIGINT');
      await dynamo.close();
    }
  });
});

describe('the dashboard before any data is loaded', () => {
  it('says to run "pnpm etl run" first, in the terminal and on the page', async () => {
    // Prepare
    const dir = freshDir('dashboard-empty-');
    const empty = await serve(DASHBOARD_SERVER, ['--port', '0'], { ETL_LOCAL_DIR: dir });
    try {
      const { page, problems, close } = await open(empty.url, DESKTOP);

      // Act
      await page.waitForSelector('body[data-state="empty"]', { timeout: 30_000 });

      // Assess
      expect(empty.output().stdout).toContain(`No data yet in ${dir}: run "pnpm etl run" first, then reload the page.`);
      expect(await page.textContent('#message')).toContain('No data yet');
      expect(await page.textContent('#message')).toContain('pnpm etl run');
      expect(await page.textContent('[data-testid="run-status"]')).toBe('no run yet');
      await page.screenshot({ path: path.join(SHOTS, 'empty.png') });
      expect(problems).toEqual([]);
      await close();
    } finally {
      await empty.stop('SIGINT');
    }
  });

  it('prints its options with --help and refuses a bad port', async () => {
    // Act
    const help = await runTs(DASHBOARD_SERVER, ['--help']);
    const bad = await runTs(DASHBOARD_SERVER, ['--port', '99999']);

    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pnpm dashboard [--port <n>]');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a port from 0 to 65535, got "99999"');
  });
});
