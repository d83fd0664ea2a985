import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { type LocalTables, SHA_A, SHA_B, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DAY_GEOS_PARTITION, DynamoGeoLedger } from '../src/index.js';

let local: LocalTables;
let geoLedger: DynamoGeoLedger;
let ledgerTable: string;
const RUN = 's-20261125T060000Z';
const CHUNK = 'county/48/2021-03';

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  ({ ledgerTable } = await local.tables());
  geoLedger = new DynamoGeoLedger(local.doc, ledgerTable);
});

describe('DynamoGeoLedger day geographies', () => {
  it('keeps the geographies of each day of a chunk, parts adding days to one item', async () => {
    // Prepare: two parts of one chunk, recorded at the same moment, and a day recorded again.
    await Promise.all([
      geoLedger.putDayGeos(CHUNK, [{ date: '2021-03-01', geos: ['48201', '48-unknown', '48001'] }], RUN),
      geoLedger.putDayGeos(CHUNK, [{ date: '2021-03-02', geos: ['48001', '48201'] }], RUN),
    ]);
    await geoLedger.putDayGeos(CHUNK, [{ date: '2021-03-02', geos: ['48001'] }], RUN);

    // Act
    const read = await geoLedger.getDayGeos([CHUNK, 'county/06/2021-03']);

    // Assess: sorted ids, the state restored; the day recorded again replaced; an absent chunk absent.
    expect(read).toEqual(
      new Map([
        [
          CHUNK,
          new Map([
            ['2021-03-01', ['48-unknown', '48001', '48201']],
            ['2021-03-02', ['48001']],
          ]),
        ],
      ]),
    );
  });

  it('stores them compactly beside the day hashes, which it leaves alone', async () => {
    // Prepare
    await geoLedger.putDayHashes(CHUNK, [{ date: '2021-03-01', hash: SHA_A }], RUN);
    await geoLedger.putDayGeos(CHUNK, [{ date: '2021-03-01', geos: ['48001', '48003', '48-unknown'] }], RUN);
    await geoLedger.putDayHashes(CHUNK, [{ date: '2021-03-02', hash: SHA_B }], RUN);

    // Act
    const item = await local.doc.send(
      new GetCommand({
        TableName: ledgerTable,
        Key: { pk: DAY_GEOS_PARTITION, sk: CHUNK },
      }),
    );

    // Assess
    expect(item.Item?.geos).toEqual({ '2021-03-01': '-unknown 001 003' });
    expect(await geoLedger.getDayHashes([CHUNK])).toEqual(
      new Map([
        [
          CHUNK,
          new Map([
            ['2021-03-01', SHA_A],
            ['2021-03-02', SHA_B],
          ]),
        ],
      ]),
    );
  });

  it('refuses a geography of another state', async () => {
    await expect(geoLedger.putDayGeos(CHUNK, [{ date: '2021-03-01', geos: ['06037'] }], RUN)).rejects.toThrow(
      'geography 06037 is not of the state of chunk county/48/2021-03',
    );
  });
});
