import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GeoCatalogRepository, type GeoDayOf } from '@covid-etl/platform';

/** The last seeded day. */
export const GEO_LAST_DATE = '2021-03-20';
const DAYS = 20;
const date = (i: number) => new Date(Date.UTC(2021, 2, 1 + i)).toISOString().slice(0, 10);

/** A cumulative series of `DAYS` days ending on {@link GEO_LAST_DATE}: `perDay` new cases a day, deaths a tenth. */
function series(geo: string, start: number, perDay: number, options: { from?: number; deaths?: boolean } = {}) {
  const from = options.from ?? 0;
  return Array.from({ length: DAYS - from }, (_, k): GeoDayOf => {
    const i = from + k;
    return {
      geo,
      date: date(i),
      cases: start + perDay * i,
      deaths: options.deaths === false ? null : Math.floor((start + perDay * i) / 10),
    };
  });
}

/**
 * Texas (48) with Harris (48201), Dallas (48113: the most cases and the largest 7-day average) and
 * Loving (48301) plus its Unknown county (5 days only: no 7-day average), and Puerto Rico's
 * Adjuntas (72001: deaths not reported). What the expected values in the tests are computed from.
 */
export const SEEDED: Record<string, GeoDayOf[]> = {
  '48': series('48', 10_000, 900),
  '48201': series('48201', 5_000, 300),
  '48113': series('48113', 2_000, 500),
  '48301': series('48301', 3, 1),
  '48-unknown': series('48-unknown', 40, 2, { from: 15 }),
  '72': series('72', 1_000, 30),
  '72001': series('72001', 50, 3, { deaths: false }),
};

export const NAMES = new Map([
  ['48201', 'Harris'],
  ['48113', 'Dallas'],
  ['48301', 'Loving'],
  ['72001', 'Adjuntas'],
]);

/**
 * Writes the seeded days as the loader stores them (`pk` = geo id, `sk` = date, `deaths` absent
 * when not reported) and keeps the catalogue and summaries current through the repository.
 */
export async function seedGeos(doc: DynamoDBDocumentClient, table: string): Promise<void> {
  const records = Object.values(SEEDED).flat();
  for (let i = 0; i < records.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: records.slice(i, i + 25).map((day) => ({
            PutRequest: {
              Item: {
                pk: day.geo,
                sk: day.date,
                cases: day.cases,
                ...(day.deaths === null ? {} : { deaths: day.deaths }),
                runId: 's-20261125T060000Z',
                change: 'inserted',
              },
            },
          })),
        },
      }),
    );
  }
  await new GeoCatalogRepository(doc, table).applyLoaded({ records, names: NAMES });
}
