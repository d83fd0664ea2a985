import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DashboardTables } from '../src/dashboard-tables.js';

const tables: DashboardTables[] = [];

afterEach(async () => {
  await Promise.all(tables.splice(0).map((t) => t.close()));
});

describe('DashboardTables: the local stack opened only while the dashboard reads it', () => {
  it('reads an empty stack, closes the database when idle, and reopens it for the next read', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-tables-'));
    const local = new DashboardTables(dir, 50);
    tables.push(local);
    const pidFile = path.join(dir, 'dynamodb', 'local-stack.pid');

    // Act
    const first = await local.series.query({});
    const openWhileUsed = existsSync(pidFile);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const openWhenIdle = existsSync(pidFile);
    const runs = await local.ledger.listRuns(5);

    // Assess
    expect(first).toEqual([]);
    expect(runs).toEqual([]);
    expect(openWhileUsed).toBe(true);
    expect(openWhenIdle).toBe(false);
  });

  it('reads the geography catalogue, county summaries and a county series of the state folder', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-tables-'));
    const local = new DashboardTables(dir, 50);
    tables.push(local);
    await local.use((pipeline) =>
      pipeline.geos.applyLoaded({ records: [{ geo: '48201', date: '2021-03-01', cases: 5, deaths: 1 }] }),
    );

    // Act
    const geos = await local.geos.listGeos();
    const counties = await local.geos.listCounties('48');
    const entry = await local.geos.getGeo('48201');
    const days = await local.geoSeries.query('48201');

    // Assess
    expect(geos.map((geo) => geo.id)).toEqual(['48201']);
    expect(counties.map((county) => [county.id, county.cases])).toEqual([['48201', 5]]);
    expect(entry).toMatchObject({ name: 'County 48201, Texas', lastDate: '2021-03-01' });
    expect(days).toEqual([]);
  });

  it('answers DataUnavailableError while another user holds the database', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-tables-'));
    const holder = new DashboardTables(dir, 60_000);
    const other = new DashboardTables(dir, 50);
    tables.push(holder, other);
    await holder.series.query({});

    // Act
    const reading = other.series.query({});

    // Assess
    await expect(reading).rejects.toMatchObject({
      name: 'DataUnavailableError',
      message: expect.stringContaining('The local stack is busy'),
    });
  });
});
