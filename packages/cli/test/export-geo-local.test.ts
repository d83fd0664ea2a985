import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '@covid-etl/platform';
import { describe, expect, it } from '@jest/globals';
import { openLocalPipeline } from '../src/ops/local-backend.js';
import { freshStateDir, runCli } from './helpers/cli.js';

/**
 * `etl export --geo <id>` on the local stack: the real `etl` command on a state folder seeded
 * with day items as the loader stores them (`deaths` absent when not reported). Apart from
 * export-geo.test.ts, whose aws-sdk-client-mock would catch these writes.
 */
const DAYS = [
  { pk: '72001', sk: '2021-03-01', cases: 2 },
  { pk: '72001', sk: '2021-03-02', cases: 3 },
  { pk: '72001', sk: '2021-03-03', cases: 5 },
];

describe('etl export --geo on the local stack', () => {
  it('prints a county of the local tables, refuses a bad id with one line and exit 1, and says so in --help', async () => {
    // Prepare: day items written into the local data table as the loader stores them.
    const dir = freshStateDir();
    const pipeline = await openLocalPipeline({ ETL_LOCAL_DIR: dir, ETL_FAULTS: '' });
    const doc = createDocumentClient({
      endpoint: pipeline.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [pipeline.tables.data]: DAYS.map((Item) => ({ PutRequest: { Item: { ...Item, runId: 'r' } } })),
          },
        }),
      );
    } finally {
      doc.destroy();
      await pipeline.close();
    }

    // Act
    const county = await runCli(['export', '--geo', '72001'], { ETL_LOCAL_DIR: dir });
    const bad = await runCli(['export', '--geo', '48201x'], { ETL_LOCAL_DIR: dir });
    const help = await runCli(['export', '--help']);

    // Assess
    expect(county.code).toBe(0);
    expect(county.stdout).toBe('date,cases,deaths\n2021-03-01,2,\n2021-03-02,3,\n2021-03-03,5,\n');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      'error: --geo: geography "48201x" is not a geography id; expected US, a state FIPS such as 06, a county FIPS such as 06037, or 36-nyc, 29-kansas-city, 29-joplin, <state FIPS>-unknown\n',
    );
    expect(help.stdout).toContain('--geo <id>');
    expect(help.stdout).toContain('deaths empty where not reported');
  });
});
