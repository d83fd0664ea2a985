import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { NATION_GEO_ID } from '@covid-etl/contracts';

/** The national series' key: the partition of its days in the data table (the default series). */
export const NATIONAL_SERIES = NATION_GEO_ID;

/** The data table's index of version items by run (`vrun` = run id, `vdate` = date). */
export const VERSIONS_BY_RUN_INDEX = 'versionsByRun';

/**
 * `vrun` of a state's or county's version item: the run id with `#geo`. The nation's versions
 * keep the bare run id, so the Query of the nation's changes of a run (the finalizer's revised
 * days, `etl diff`, time travel) reads the nation's items only, never the ~3.6 M versions of a
 * county backfill. Versions written before this suffix carry the bare run id (read as legacy).
 */
export const geoVersionRun = (runId: string): string => `${runId}#geo`;

/** The ledger's index of runs by start time (`gsi1pk` = RUNS, `gsi1sk` = startedAt). */
export const RUNS_INDEX = 'byStartedAt';
export const RUNS_PARTITION = 'RUNS';

/**
 * The data table: one item per day, `pk` = the series key (`US` for the nation), `sk` =
 * `YYYY-MM-DD`, so a whole series is one Query in date order; and one version item per change
 * of a day (`pk` = `DAY#<date>`, `sk` = `<run start time>#<runId>`), indexed by run on `versionsByRun`. The Terraform `table` module
 * creates the same keys.
 */
export function dataTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'vrun', AttributeType: 'S' },
      { AttributeName: 'vdate', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: VERSIONS_BY_RUN_INDEX,
        KeySchema: [
          { AttributeName: 'vrun', KeyType: 'HASH' },
          { AttributeName: 'vdate', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** The run ledger: runs, their chunks, month hashes, source baselines, notification marks. */
export function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: RUNS_INDEX,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
