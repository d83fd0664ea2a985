import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { GeoPartMessage, GeoRecord } from '@covid-etl/contracts';
import {
  DynamoGeoLedger,
  GeoCatalogRepository,
  GeoSeriesStore,
  type LedgerRepository,
  RunFinalizer,
  silentLogger,
  TransientError,
} from '@covid-etl/platform';
import {
  CapturingPublisher,
  countRequests,
  type LocalTables,
  runItem,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Semaphore } from 'async-mutex';
import {
  CatalogueMutexes,
  GEO_PARTS_AT_ONCE,
  type LoadGeoPartDeps,
  loadGeoPart,
} from '../src/use-cases/load-geo-part.js';

let local: LocalTables;
let ledger: LedgerRepository;
let dataTable: string;
let ledgerTable: string;
let deps: LoadGeoPartDeps;
let catalog: GeoCatalogRepository;
let clock: TestClock;

const R1 = 's-20261124T060000Z';
const R2 = 's-20261125T060000Z';
const HASH = '1'.repeat(64);
const STATE_PART = 'state/48/2020-04#01-02';
const COUNTY_PART = 'county/48/2020-04#01-08';

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  const tables = await local.tables();
  ({ ledger, dataTable, ledgerTable } = tables);
  clock = new TestClock();
  catalog = new GeoCatalogRepository(local.doc, dataTable);
  const logger = silentLogger();
  deps = {
    ledger,
    geoLedger: new DynamoGeoLedger(local.doc, tables.ledgerTable),
    geoSeries: new GeoSeriesStore(local.doc, dataTable),
    geoCatalog: catalog,
    finalizer: new RunFinalizer({ ledger, events: new CapturingPublisher(), logger, clock }),
    clock,
    logger,
  };
});

/** A dispatched RUNNING run whose parts wait for the loader. */
async function dispatchedRun(runId: string, parts: string[]) {
  await ledger.createRun(runItem({ runId, startedAt: clock.now().toISOString() }));
  await ledger.recordDispatchPlan(runId, {
    sources: [],
    months: parts,
    hashes: Object.fromEntries(parts.map((part) => [part, HASH])),
    skipped: { months: 0, records: 0 },
  });
  await ledger.markDispatched(runId);
  for (const part of parts) await ledger.markChunkTransformed(runId, part, []);
}

function part(runId: string, key: string, records: Omit<GeoRecord, 'line'>[]): GeoPartMessage {
  const chunk = key.split('#')[0] as string;
  const dates = [...new Set(records.map((record) => record.date))].sort();
  return {
    version: 1,
    runId,
    level: key.startsWith('state/') ? 'state' : 'county',
    chunk,
    part: key,
    month: key,
    hash: HASH,
    days: dates.map((date) => ({ date, hash: HASH })),
    baseline: true,
    records: records.map((record, i) => ({ ...record, line: i + 2 })),
  };
}

/** Harris County (48201), 2020-04-01..08: cases 100, 110, …, 170; deaths 1, 2, …, 8. */
const harris = Array.from({ length: 8 }, (_, i) => ({
  geo: '48201',
  date: `2020-04-0${i + 1}`,
  cases: 100 + i * 10,
  deaths: i + 1,
}));
const texas = [
  { geo: '48', date: '2020-04-01', cases: 1000, deaths: 10 },
  { geo: '48', date: '2020-04-02', cases: 1200, deaths: null },
];

describe('loadGeoPart: the geography catalogue and the county summaries', () => {
  it('lists a loaded state and county in the catalogue, with the county summary of its state, and a redelivery changes nothing', async () => {
    // Arrange
    await dispatchedRun(R1, [STATE_PART, COUNTY_PART]);

    // Act
    await loadGeoPart(part(R1, STATE_PART, texas), deps);
    await loadGeoPart(part(R1, COUNTY_PART, harris), deps);

    // Assert
    const geos = await catalog.listGeos();
    expect(geos).toEqual([
      {
        id: '48',
        name: 'Texas',
        level: 'state',
        state: '48',
        firstDate: '2020-04-01',
        lastDate: '2020-04-02',
        cases: 1200,
        deaths: null,
      },
      expect.objectContaining({
        id: '48201',
        level: 'county',
        state: '48',
        firstDate: '2020-04-01',
        lastDate: '2020-04-08',
        cases: 170,
        deaths: 8,
      }),
    ]);
    const [summary, ...others] = await catalog.listCounties('48');
    expect(others).toEqual([]);
    expect(summary).toMatchObject({
      id: '48201',
      date: '2020-04-08',
      cases: 170,
      deaths: 8,
      newCases7d: 10,
      newDeaths7d: 1,
    });

    // Redelivery of the county part (already loaded): nothing is written to the data table.
    const counter = countRequests(local.doc);
    await loadGeoPart(part(R1, COUNTY_PART, harris), deps);
    expect(counter.requests[dataTable]?.BatchWriteItem ?? 0).toBe(0);
    expect(await catalog.listGeos()).toEqual(geos);
    expect(await catalog.listCounties('48')).toEqual([summary]);
  });

  it('a later run that delivers the same days writes no catalogue or summary item', async () => {
    // Arrange
    await dispatchedRun(R1, [COUNTY_PART]);
    await loadGeoPart(part(R1, COUNTY_PART, harris), deps);
    const geos = await catalog.listGeos();
    const summaries = await catalog.listCounties('48');
    expect(geos.map((geo) => geo.id)).toEqual(['48201']);
    expect(summaries.map((summary) => summary.id)).toEqual(['48201']);
    await dispatchedRun(R2, [COUNTY_PART]);
    const counter = countRequests(local.doc);

    // Act
    await loadGeoPart(part(R2, COUNTY_PART, harris), deps);

    // Assert
    expect(counter.requests[dataTable]?.BatchWriteItem ?? 0).toBe(0);
    expect(await catalog.listGeos()).toEqual(geos);
    expect(await catalog.listCounties('48')).toEqual(summaries);
  });

  it('a later run that revises the last day moves the catalogue entry and the summary', async () => {
    // Arrange
    await dispatchedRun(R1, [COUNTY_PART]);
    await loadGeoPart(part(R1, COUNTY_PART, harris), deps);
    await dispatchedRun(R2, [COUNTY_PART]);
    const revised = harris.map((day) => (day.date === '2020-04-08' ? { ...day, cases: 240, deaths: 15 } : day));

    // Act
    await loadGeoPart(part(R2, COUNTY_PART, revised), deps);

    // Assert
    expect(await catalog.getGeo('48201')).toMatchObject({ lastDate: '2020-04-08', cases: 240, deaths: 15 });
    expect(await catalog.listCounties('48')).toEqual([
      expect.objectContaining({ id: '48201', cases: 240, deaths: 15, newCases7d: 20, newDeaths7d: 2 }),
    ]);
  });
});

describe("loadGeoPart: a state's catalogue lock", () => {
  const MAY_PART = 'county/48/2020-05#01-08';
  const harrisMay = harris.map((day, i) => ({
    ...day,
    date: `2020-05-0${i + 1}`,
    cases: 300 + i * 10,
    deaths: 20 + i,
  }));

  /** A document client that stops after the first catalogue Query (pk GEOS) until `resume` resolves. */
  function pausingAfterCatalogueRead(resume: Promise<void>) {
    let paused = false;
    let signal = () => {};
    const read = new Promise<void>((resolve) => {
      signal = resolve;
    });
    const doc = {
      send: async (command: { input: { ExpressionAttributeValues?: Record<string, unknown> } }) => {
        const response = await local.doc.send(command as never);
        if (!paused && command instanceof QueryCommand && command.input.ExpressionAttributeValues?.[':pk'] === 'GEOS') {
          paused = true;
          signal();
          await resume;
        }
        return response;
      },
    } as unknown as DynamoDBDocumentClient;
    return { doc, read };
  }

  it('two parts of one state loaded at once leave the catalogue and the summary at the latest day', async () => {
    // Arrange: part A (April) has read the catalogue and is paused before it writes; part B
    // (May, same state, same run) is loaded meanwhile. Without the lock B writes first and A's
    // stale write (lastDate 2020-04-08) wins.
    await dispatchedRun(R1, [COUNTY_PART, MAY_PART]);
    let resume = () => {};
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const paused = pausingAfterCatalogueRead(resumed);
    // A and B as two Lambda instances (each its own process mutexes).
    const depsA: LoadGeoPartDeps = {
      ...deps,
      geoCatalog: new GeoCatalogRepository(paused.doc, dataTable),
      catalogueMutexes: new CatalogueMutexes(),
    };
    // B waiting for the lock lets A go on (without the lock B never waits: A goes on after B).
    const depsB: LoadGeoPartDeps = { ...deps, sleep: async () => resume(), catalogueMutexes: new CatalogueMutexes() };

    // Act
    const a = loadGeoPart(part(R1, COUNTY_PART, harris), depsA);
    await paused.read;
    const b = loadGeoPart(part(R1, MAY_PART, harrisMay), depsB).finally(resume);
    await Promise.all([a, b]);

    // Assert
    expect(await catalog.getGeo('48201')).toMatchObject({
      firstDate: '2020-04-01',
      lastDate: '2020-05-08',
      cases: 370,
      deaths: 27,
    });
    expect(await catalog.listCounties('48')).toEqual([
      expect.objectContaining({ id: '48201', date: '2020-05-08', cases: 370, deaths: 27, newCases7d: 10 }),
    ]);
    expect((await ledger.getRun(R1))?.status).toBe('SUCCEEDED');
  });

  it('parts of one state in one process take turns without polling the ledger lock', async () => {
    // Arrange: four parts of Texas (two months, two days each) loaded at once by one instance.
    const keys = [
      'county/48/2020-04#01-02',
      'county/48/2020-04#03-04',
      'county/48/2020-05#01-02',
      'county/48/2020-05#03-04',
    ];
    await dispatchedRun(R1, keys);
    const days = (month: string, from: number) =>
      [from, from + 1].map((day) => ({ geo: '48201', date: `2020-${month}-0${day}`, cases: 100 * day, deaths: day }));
    let pauses = 0;
    const oneInstance: LoadGeoPartDeps = {
      ...deps,
      catalogueMutexes: new CatalogueMutexes(),
      sleep: async () => {
        pauses += 1;
      },
    };

    // Act
    await Promise.all([
      loadGeoPart(part(R1, keys[0] as string, days('04', 1)), oneInstance),
      loadGeoPart(part(R1, keys[1] as string, days('04', 3)), oneInstance),
      loadGeoPart(part(R1, keys[2] as string, days('05', 1)), oneInstance),
      loadGeoPart(part(R1, keys[3] as string, days('05', 3)), oneInstance),
    ]);

    // Assert
    expect(pauses).toBe(0);
    expect(await catalog.getGeo('48201')).toMatchObject({
      firstDate: '2020-04-01',
      lastDate: '2020-05-04',
      cases: 400,
    });
    expect((await ledger.getRun(R1))?.status).toBe('SUCCEEDED');
  });

  it('loads at most GEO_PARTS_AT_ONCE parts of a batch at a time, and every one of them', async () => {
    // Arrange: ten parts of ten states delivered together, a store that counts reads in flight.
    const states = ['01', '04', '05', '06', '08', '09', '10', '12', '13', '48'];
    const keys = states.map((state) => `county/${state}/2020-04#01-01`);
    await dispatchedRun(R1, keys);
    let inFlight = 0;
    let most = 0;
    const store = deps.geoSeries;
    const counting: LoadGeoPartDeps = {
      ...deps,
      partSlots: new Semaphore(GEO_PARTS_AT_ONCE),
      geoSeries: {
        getDays: async (...args: Parameters<typeof store.getDays>) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 20));
          inFlight -= 1;
          return store.getDays(...args);
        },
        writeChanges: (...args: Parameters<typeof store.writeChanges>) => store.writeChanges(...args),
      },
    };

    // Act
    await Promise.all(
      states.map((state, i) =>
        loadGeoPart(
          part(R1, keys[i] as string, [{ geo: `${state}001`, date: '2020-04-01', cases: 10, deaths: 1 }]),
          counting,
        ),
      ),
    );

    // Assert
    expect(most).toBe(GEO_PARTS_AT_ONCE);
    expect((await ledger.getRun(R1))?.status).toBe('SUCCEEDED');
  });

  it("waits for another holder's lock, is retried once it stays locked 30 s, and loads after the lock runs out", async () => {
    // Arrange: a crashed part of another run holds Texas's catalogue lock for 60 s.
    await dispatchedRun(R1, [COUNTY_PART]);
    const now = clock.now().getTime();
    expect(await ledger.lockCatalogue('48', `${R2}|county/48/2020-03#01-08`, { now, until: now + 60_000 })).toBe(true);
    let waited = 0;
    const waiting: LoadGeoPartDeps = {
      ...deps,
      sleep: async (ms) => {
        waited += ms;
      },
    };

    // Act
    const refused = await loadGeoPart(part(R1, COUNTY_PART, harris), waiting).catch((error: unknown) => error);
    clock.advance(61_000);
    await loadGeoPart(part(R1, COUNTY_PART, harris), waiting);

    // Assert
    expect(refused).toBeInstanceOf(TransientError);
    expect(String((refused as Error).message)).toMatch(/catalogue of state 48 stayed locked/);
    expect(waited).toBeGreaterThanOrEqual(30_000);
    expect(await catalog.getGeo('48201')).toMatchObject({ lastDate: '2020-04-08', cases: 170 });
    // The days written before the refusal count once, as this run's inserts.
    expect((await ledger.getChunk(R1, COUNTY_PART))?.counts).toEqual({ inserted: 8, updated: 0, unchanged: 0 });
    expect((await ledger.getRun(R1))?.status).toBe('SUCCEEDED');
    // The lock was given back: another holder takes it at once.
    expect(await ledger.lockCatalogue('48', 'someone-else', { now: clock.now().getTime(), until: 0 })).toBe(true);
  });
});

/** The version items of one day of a geography. */
async function versionsOf(geo: string, date: string) {
  const response = await local.doc.send(
    new QueryCommand({
      TableName: dataTable,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `DAY#${geo}#${date}` },
    }),
  );
  return response.Items ?? [];
}

/** Delivers `message` again (as SQS does after the visibility timeout) until it is not refused for a held lease. */
async function untilNotHeld(load: () => Promise<void>) {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
    }
  }
  throw new Error('the part was refused five times');
}

describe("loadGeoPart: the publisher's names", () => {
  it('keeps the names a part carries in the catalogue and the county table, and a part without names keeps them', async () => {
    // Arrange
    await dispatchedRun(R1, [STATE_PART, COUNTY_PART]);
    await dispatchedRun(R2, [COUNTY_PART]);
    const revised = harris.map((day) => (day.date === '2020-04-08' ? { ...day, cases: 240 } : day));

    // Act
    await loadGeoPart({ ...part(R1, STATE_PART, texas), names: { '48': 'Texas' } }, deps);
    await loadGeoPart({ ...part(R1, COUNTY_PART, harris), names: { '48201': 'Harris' } }, deps);
    const named = await catalog.listGeos();
    await loadGeoPart(part(R2, COUNTY_PART, revised), deps);

    // Assert: what the dashboard's picker searches ("harris") and its county table list.
    expect(named.map((geo) => [geo.id, geo.name])).toEqual([
      ['48', 'Texas'],
      ['48201', 'Harris'],
    ]);
    expect(await catalog.getGeo('48201')).toMatchObject({ name: 'Harris', cases: 240 });
    expect((await catalog.listCounties('48')).map((county) => [county.id, county.name])).toEqual([['48201', 'Harris']]);
  });
});

describe('loadGeoPart: the geographies of each day', () => {
  it("records, with a county part's day hashes, the counties each day has; not for a state part nor a part that is no baseline", async () => {
    // Arrange: Harris on 8 days, the Unknown county of Texas on the first two only.
    await dispatchedRun(R1, [STATE_PART, COUNTY_PART, 'county/06/2020-04#01-01']);
    const unknown = harris.slice(0, 2).map((day) => ({ ...day, geo: '48-unknown', cases: 5 }));
    const geoLedger = deps.geoLedger as DynamoGeoLedger;

    // Act
    await loadGeoPart(part(R1, STATE_PART, texas), deps);
    await loadGeoPart(part(R1, COUNTY_PART, [...harris, ...unknown]), deps);
    await loadGeoPart(
      {
        ...part(R1, 'county/06/2020-04#01-01', [{ geo: '06037', date: '2020-04-01', cases: 1, deaths: 0 }]),
        baseline: false,
      },
      deps,
    );

    // Assert
    const recorded = await geoLedger.getDayGeos(['state/48/2020-04', 'county/48/2020-04', 'county/06/2020-04']);
    expect([...recorded.keys()]).toEqual(['county/48/2020-04']);
    const days = recorded.get('county/48/2020-04');
    expect(days?.size).toBe(8);
    expect(days?.get('2020-04-01')).toEqual(['48-unknown', '48201']);
    expect(days?.get('2020-04-02')).toEqual(['48-unknown', '48201']);
    expect(days?.get('2020-04-03')).toEqual(['48201']);
    expect((await geoLedger.getDayHashes(['county/48/2020-04'])).get('county/48/2020-04')?.size).toBe(8);
  });
});

describe('loadGeoPart: the chunk lease', () => {
  it('two runs loading the same chunk at once give exact counts and one version per change', async () => {
    // Arrange: runs 1 and 2 deliver the same Harris days; each run's read completes before the
    // first write of the other could land (the interleaving that double counts without a lease).
    await dispatchedRun(R1, [COUNTY_PART]);
    await dispatchedRun(R2, [COUNTY_PART]);
    const store = new GeoSeriesStore(local.doc, dataTable);
    let secondDone: () => void = () => undefined;
    const secondReadOrDone = new Promise<void>((resolve) => {
      secondDone = resolve;
    });
    const first: LoadGeoPartDeps = {
      ...deps,
      geoSeries: {
        getDays: (keys) => store.getDays(keys),
        writeChanges: async (...args) => {
          await secondReadOrDone;
          return store.writeChanges(...args);
        },
      },
    };
    const second: LoadGeoPartDeps = {
      ...deps,
      geoSeries: {
        getDays: async (keys) => {
          const days = await store.getDays(keys);
          secondDone();
          return days;
        },
        writeChanges: (...args) => store.writeChanges(...args),
      },
    };

    // Act: both at once; the one refused is delivered again, as SQS would.
    const outcomes = await Promise.allSettled([
      loadGeoPart(part(R1, COUNTY_PART, harris), first),
      loadGeoPart(part(R2, COUNTY_PART, harris), second).finally(secondDone),
    ]);
    const refused = outcomes.flatMap((outcome, index) => (outcome.status === 'rejected' ? [index] : []));
    for (const index of refused) {
      expect((outcomes[index] as PromiseRejectedResult).reason).toBeInstanceOf(TransientError);
      const runId = index === 0 ? R1 : R2;
      await untilNotHeld(() => loadGeoPart(part(runId, COUNTY_PART, harris), deps));
    }

    // Assert: one run inserted the 8 days, the other found them unchanged; one version per day.
    const counts = [(await ledger.getChunk(R1, COUNTY_PART))?.counts, (await ledger.getChunk(R2, COUNTY_PART))?.counts];
    expect(counts).toContainEqual({ inserted: 8, updated: 0, unchanged: 0 });
    expect(counts).toContainEqual({ inserted: 0, updated: 0, unchanged: 8 });
    for (const day of harris) expect(await versionsOf('48201', day.date)).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect([(await ledger.getRun(R1))?.status, (await ledger.getRun(R2))?.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it("refuses a part while another run holds its chunk, then loads it once that run's parts are loaded", async () => {
    // Arrange: run 1 holds the chunk (one of its parts is being loaded).
    await dispatchedRun(R2, [COUNTY_PART]);
    const now = clock.now().getTime();
    await ledger.leaseGeoChunk('county/48/2020-04', 'county/48/2020-04#09-09', R1, { now, until: now + 60_000 });
    const counter = countRequests(local.doc);

    // Act
    const refused = loadGeoPart(part(R2, COUNTY_PART, harris), deps);

    // Assert: refused before any read or write of the data table; loaded once run 1 is done.
    await expect(refused).rejects.toThrow(
      `Chunk county/48/2020-04 is being loaded by another run; the part ${COUNTY_PART} will be retried`,
    );
    expect(counter.requests[dataTable] ?? {}).toEqual({});
    await ledger.releaseGeoChunk('county/48/2020-04', 'county/48/2020-04#09-09', R1);
    await loadGeoPart(part(R2, COUNTY_PART, harris), deps);
    expect((await ledger.getChunk(R2, COUNTY_PART))?.counts).toEqual({ inserted: 8, updated: 0, unchanged: 0 });
  });

  it("shares the lease among one run's parts and gives it back after the last; a crashed holder's lease runs out", async () => {
    // Arrange: run 1 has two parts of the chunk; one more part of it crashed holding the lease.
    const early = 'county/48/2020-04#01-04';
    const late = 'county/48/2020-04#05-08';
    await dispatchedRun(R1, [early, late]);
    await dispatchedRun(R2, [COUNTY_PART]);
    const now = clock.now().getTime();

    // Act: both parts at once; then run 2 on the same chunk.
    await Promise.all([
      loadGeoPart(part(R1, early, harris.slice(0, 4)), deps),
      loadGeoPart(part(R1, late, harris.slice(4)), deps),
    ]);
    await loadGeoPart(part(R2, COUNTY_PART, harris), deps);
    await ledger.leaseGeoChunk('state/48/2020-04', 'state/48/2020-04#01-02', R1, { now, until: now + 60_000 });
    const whileLive = await ledger.leaseGeoChunk('state/48/2020-04', STATE_PART, R2, { now, until: now + 60_000 });
    clock.advance(60_001);
    const later = clock.now().getTime();
    const afterRunOut = await ledger.leaseGeoChunk('state/48/2020-04', STATE_PART, R2, {
      now: later,
      until: later + 60_000,
    });

    // Assert
    expect((await ledger.getRun(R1))?.status).toBe('SUCCEEDED');
    expect((await ledger.getChunk(R2, COUNTY_PART))?.counts).toEqual({ inserted: 0, updated: 0, unchanged: 8 });
    expect([whileLive, afterRunOut]).toEqual(['held', 'taken']);
  });
});

describe('loadGeoPart: ledger requests of a part', () => {
  it("writes a new chunk's day hashes with one put and gives back a lease it holds alone in one update", async () => {
    // Arrange: a run of two parts (the first does not finish it); the state's part is new when planned.
    await dispatchedRun(R1, [STATE_PART, COUNTY_PART]);
    const counter = countRequests(local.doc);

    // Act
    await loadGeoPart({ ...part(R1, STATE_PART, texas), newChunk: true }, deps);
    counter.stop();

    // Assert: the lease, the catalogue lock and its release, the part's mark and the run's count
    // (one UpdateItem each), the lease given back (one more), the day hashes (one PutItem).
    expect(counter.requests[ledgerTable]).toMatchObject({ UpdateItem: 6, PutItem: 1 });
    const hashes = await (deps.geoLedger as DynamoGeoLedger).getDayHashes(['state/48/2020-04']);
    expect(hashes.get('state/48/2020-04')?.size).toBe(2);
    expect(await ledger.leaseGeoChunk('state/48/2020-04', STATE_PART, R2, { now: 0, until: 1 })).toBe('taken');
  });

  it('adds to the day hashes of a chunk said to be new that another run created meanwhile, losing none', async () => {
    // Arrange: the chunk's hashes hold April 3 (another part, loaded after this run was planned).
    await dispatchedRun(R1, [STATE_PART]);
    const geoLedger = deps.geoLedger as DynamoGeoLedger;
    await geoLedger.putDayHashes('state/48/2020-04', [{ date: '2020-04-03', hash: HASH }], R2);

    // Act
    await loadGeoPart({ ...part(R1, STATE_PART, texas), newChunk: true }, deps);

    // Assert
    const days = (await geoLedger.getDayHashes(['state/48/2020-04'])).get('state/48/2020-04');
    expect([...(days?.keys() ?? [])].sort()).toEqual(['2020-04-01', '2020-04-02', '2020-04-03']);
  });
});

describe("loadGeoPart: a revert's part", () => {
  it('restores values, removes days as tombstones counted deleted, forgets emptied dates, and counts a redelivery once', async () => {
    // Arrange: R1 loaded Harris County's April 1-8; a revert puts April 7 back and removes April 8.
    const revertRun = 'r-20261125T060000-abcdef';
    const key = 'county/48/2020-04#07-08';
    await dispatchedRun(R1, [COUNTY_PART]);
    await loadGeoPart(part(R1, COUNTY_PART, harris), deps);
    await dispatchedRun(revertRun, [key]);
    const revert: GeoPartMessage = {
      ...part(revertRun, key, [{ geo: '48201', date: '2020-04-07', cases: 150, deaths: 6 }]),
      removed: [{ geo: '48201', date: '2020-04-08' }],
    };
    const geoLedger = deps.geoLedger as DynamoGeoLedger;

    // Act: delivered twice.
    await loadGeoPart(revert, deps);
    await loadGeoPart(revert, deps);

    // Assert: the day is a tombstone with its version, the counts are exact, the run finished.
    const stored = await deps.geoSeries.getDays(
      [
        { geo: '48201', date: '2020-04-07' },
        { geo: '48201', date: '2020-04-08' },
      ],
      { removed: true },
    );
    expect(stored.get('48201|2020-04-07')).toMatchObject({ cases: 150, deaths: 6, change: 'updated' });
    expect(stored.get('48201|2020-04-08')).toMatchObject({ change: 'deleted', removed: true, runId: revertRun });
    expect(await deps.geoSeries.getDays([{ geo: '48201', date: '2020-04-08' }])).toEqual(new Map());
    const versions = (await versionsOf('48201', '2020-04-08')).map((v) => [v.runId, v.change]);
    expect(versions.sort()).toEqual([
      [revertRun, 'deleted'],
      [R1, 'inserted'],
    ]);
    const chunk = await ledger.getChunk(revertRun, key);
    expect(chunk?.counts).toEqual({ inserted: 0, updated: 1, unchanged: 0, deleted: 1 });
    expect((await ledger.getRun(revertRun))?.summary?.levels?.county).toMatchObject({ updated: 1, deleted: 1 });
    // April 8 is no longer loaded: its hash is gone; April 7 has the revert's.
    const hashes = (await geoLedger.getDayHashes(['county/48/2020-04'])).get('county/48/2020-04');
    expect(hashes?.has('2020-04-08')).toBe(false);
    expect(hashes?.get('2020-04-07')).toBe(HASH);
    // The catalogue and the county table follow: the latest day is April 7 again.
    expect(await catalog.getGeo('48201')).toMatchObject({ lastDate: '2020-04-07', cases: 150, deaths: 6 });
    expect(await catalog.listCounties('48')).toEqual([expect.objectContaining({ id: '48201', date: '2020-04-07' })]);
  });
});
