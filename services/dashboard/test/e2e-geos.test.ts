import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type FunctionUrlServer, startFunctionUrlServer } from '@covid-etl/local-stack';
import { GeoCatalogRepository, GeoSeriesReader } from '@covid-etl/platform';
import { type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import playwright, { type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { createHandler } from '../src/app.js';
import { buildWebAssets } from '../src/web-build.js';
import { FakeLedger, FakeSeries } from './fixtures.js';
import { GEO_LAST_DATE, SEEDED, seedGeos } from './geo-fixtures.js';
import { REPO_ROOT } from './helpers/processes.js';

/**
 * States and counties in headless Chromium (Debian's /usr/bin/chromium through playwright-core):
 * the dashboard handler served over HTTP on dynalite tables seeded with a state, its counties
 * and a Puerto Rico municipio, the catalogue and summaries kept by GeoCatalogRepository.
 * Screenshots go to test-output/dashboard/ at the repository root.
 */
jest.setTimeout(120_000);

const SHOTS = path.join(REPO_ROOT, 'test-output', 'dashboard');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
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

let browser: Browser;
let local: LocalTables;
let server: FunctionUrlServer;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  local = await startLocalTables();
  const { dataTable } = await local.tables();
  await seedGeos(local.doc, dataTable);
  const handler = createHandler({
    series: new FakeSeries(),
    ledger: new FakeLedger(),
    geos: new GeoCatalogRepository(local.doc, dataTable),
    geoSeries: new GeoSeriesReader(local.doc, dataTable),
    environment: 'local',
    assets: await buildWebAssets(),
  });
  server = await startFunctionUrlServer({ handler, port: 0 });
  browser = await playwright.chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await local?.close();
});

/** Opens a page, recording console errors, uncaught exceptions and the API paths it requested. */
async function open(url: string, options: BrowserContextOptions) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (request) => {
    const { pathname, search } = new URL(request.url());
    if (pathname.startsWith('/api/')) requests.push(`${pathname}${search}`);
  });
  await page.goto(url);
  return { page, problems, requests, close: () => context.close() };
}

const ready = (page: Page) => page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
const countyOrder = (page: Page) =>
  page.$$eval('#county-rows tr', (rows) => rows.map((row) => (row as HTMLElement).dataset.geo));

describe('the dashboard for states and counties', () => {
  it('shows a state with its charts and its counties, sortable by each column (desktop)', async () => {
    // Prepare
    const texas = SEEDED['48']?.at(-1);
    const { page, problems, requests, close } = await open(`${server.url}?geo=48`, DESKTOP);

    // Act
    await ready(page);
    await page.waitForSelector('#counties:not([hidden]) #county-rows tr');
    const byName = await countyOrder(page);
    await page.click('button[data-sort="newCases7d"]');
    const byAverage = await countyOrder(page);
    const sortState = await page.getAttribute('th:has(button[data-sort="newCases7d"])', 'aria-sort');
    await page.click('button[data-sort="newCases7d"]');
    const byAverageAscending = await countyOrder(page);
    await page.click('button[data-sort="cases"]');
    const byCases = await countyOrder(page);
    await page.screenshot({ path: path.join(SHOTS, 'state-48-desktop.png'), fullPage: true });

    // Assess
    expect(await page.textContent('[data-testid="page-title"]')).toBe('Texas: COVID-19 cases and deaths');
    expect(await page.title()).toBe('Texas: COVID-19 cases and deaths');
    expect(await page.textContent('[data-testid="geo-path"]')).toBe('United States › Texas');
    expect(await page.getAttribute('[data-testid="last-cases"]', 'data-value')).toBe(String(texas?.cases));
    expect(await page.getAttribute('[data-testid="last-date"]', 'datetime')).toBe(GEO_LAST_DATE);
    expect(await page.isVisible('#kpi-recovered-card')).toBe(false);
    expect(await page.textContent('#figure-cumulative h3')).toBe('Cumulative cases');
    expect(await page.textContent('#legend-cumulative')).not.toContain('Recovered');
    expect(await page.getAttribute('[data-testid="chart-cumulative"]', 'data-points')).toBe('20');
    expect(await page.textContent('#counties-heading')).toBe('Counties of Texas (4)');
    expect(byName).toEqual(['48113', '48201', '48301', '48-unknown']);
    expect(byAverage).toEqual(['48113', '48201', '48301', '48-unknown']);
    expect(sortState).toBe('descending');
    // Ascending: smallest first, the county without an average yet still last.
    expect(byAverageAscending).toEqual(['48301', '48201', '48113', '48-unknown']);
    expect(byCases).toEqual(['48113', '48201', '48-unknown', '48301']);
    const harris = SEEDED['48201']?.at(-1);
    const row = page.locator('#county-rows tr[data-geo="48201"]');
    expect(await row.locator('td').nth(1).textContent()).toBe(us(harris?.cases as number));
    expect(await row.locator('td').nth(3).textContent()).toBe('300.0');
    // One series, one county table: never the counties' series.
    expect(requests.filter((request) => request.startsWith('/api/series'))).toEqual(['/api/series?geo=48']);
    expect(requests).toContain('/api/counties?state=48');
    expect(requests).not.toContain('/api/geos');
    expect(problems).toEqual([]);
    await close();
  });

  it('opens a county from the state table, and shows unreported deaths as such (phone)', async () => {
    // Prepare
    const { page, problems, close } = await open(`${server.url}?geo=48`, PHONE);
    await ready(page);
    await page.waitForSelector('#county-rows tr');

    // Act
    const link = page.locator('#county-rows a[data-geo="48201"]');
    const href = await link.getAttribute('href');
    await link.click();
    await page.waitForURL(/\?geo=48201$/).catch(async (error: Error) => {
      await page.screenshot({ path: path.join(SHOTS, 'county-click-failed.png'), fullPage: true });
      throw new Error(`${error.message}; href ${href}, url ${page.url()}`);
    });
    await ready(page);
    await page.screenshot({ path: path.join(SHOTS, 'county-48201-phone.png'), fullPage: true });
    const municipio = await open(`${server.url}?geo=72001`, PHONE);
    await ready(municipio.page);

    // Assess
    expect(await page.textContent('[data-testid="page-title"]')).toBe('Harris, Texas: COVID-19 cases and deaths');
    expect(await page.textContent('[data-testid="geo-path"]')).toBe('United States › Texas › Harris');
    expect(await page.getAttribute('[data-testid="geo-path"] a[data-geo="48"]', 'href')).toBe('/?geo=48');
    expect(await page.getAttribute('[data-testid="last-cases"]', 'data-value')).toBe(
      String(SEEDED['48201']?.at(-1)?.cases),
    );
    expect(await page.isVisible('[data-testid="counties"]')).toBe(false);
    expect(await page.getAttribute('[data-testid="chart-daily-cases"]', 'data-last-date')).toBe(GEO_LAST_DATE);
    expect(await municipio.page.textContent('[data-testid="last-deaths"]')).toBe('Not reported');
    // No horizontal scrolling on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect([...problems, ...municipio.problems]).toEqual([]);
    await municipio.close();
    await close();
  });

  it('finds a county by name from the national page and opens it by its URL', async () => {
    // Prepare
    const { page, requests, close } = await open(server.url, DESKTOP);
    await page.waitForSelector('body:not([data-state="loading"])');

    // Act
    await page.fill('[data-testid="geo-search"]', 'harris tex');
    await page.waitForSelector('#geo-results:not([hidden]) a');
    const results = await page.$$eval('#geo-results a', (links) =>
      links.map((link) => (link as HTMLElement).dataset.geo),
    );
    await Promise.all([page.waitForURL(/\?geo=48201$/), page.press('[data-testid="geo-search"]', 'Enter')]);
    await ready(page);

    // Assess
    expect(results).toEqual(['48201']);
    expect(requests.filter((request) => request === '/api/geos')).toHaveLength(1);
    expect(await page.textContent('[data-testid="page-title"]')).toBe('Harris, Texas: COVID-19 cases and deaths');
    await close();
  });

  it('says what is wrong with a bad or unknown id instead of a blank page', async () => {
    // Act
    const bad = await open(`${server.url}?geo=TX`, PHONE);
    await bad.page.waitForSelector('body[data-state="error"]');
    const unknown = await open(`${server.url}?geo=48999`, PHONE);
    await unknown.page.waitForSelector('body[data-state="error"]');
    await unknown.page.screenshot({ path: path.join(SHOTS, 'geo-unknown-phone.png') });

    // Assess
    expect(await bad.page.textContent('#message')).toContain('geo: geography "TX" is not a geography id');
    expect(await bad.page.isVisible('#message')).toBe(true);
    expect(await unknown.page.textContent('#message')).toContain('no data for geography 48999');
    // The picker still works from the error page.
    expect(await unknown.page.isVisible('[data-testid="geo-search"]')).toBe(true);
    await bad.close();
    await unknown.close();
  });
});
