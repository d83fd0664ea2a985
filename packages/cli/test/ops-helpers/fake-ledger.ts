import type { GetCommandInput, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ChunkItem, RunItem } from '@covid-etl/platform';

type Item = Record<string, unknown> & { pk: string; sk: string };

/**
 * An in-memory stand-in for the two DynamoDB tables behind the DocumentClient's GetCommand and
 * QueryCommand (the reads the operator commands make), wired in with aws-sdk-client-mock.
 * Queries return at most `pageSize` items per page, like DynamoDB's 1 MB page limit, so
 * callers must follow LastEvaluatedKey.
 */
export class FakeTables {
  readonly items = new Map<string, Item>();

  constructor(readonly pageSize = 2) {}

  putRun(run: RunItem): void {
    this.put({ pk: `RUN#${run.runId}`, sk: 'RUN', gsi1pk: 'RUNS', gsi1sk: `${run.startedAt}#${run.runId}`, ...run });
  }

  putChunk(chunk: ChunkItem): void {
    this.put({ pk: `RUN#${chunk.runId}`, sk: `CHUNK#${chunk.month}`, ...chunk });
  }

  putDay(date: string, values: { cases: number; deaths: number; recovered: number }): void {
    this.put({ pk: 'US', sk: date, ...values, runId: 'r', change: 'inserted', updatedAt: '2026-01-01T00:00:00Z' });
  }

  put(item: Item): void {
    this.items.set(`${item.pk}|${item.sk}`, item);
  }

  get = (input: GetCommandInput) => {
    const key = input.Key as { pk: string; sk: string };
    const item = this.items.get(`${key.pk}|${key.sk}`);
    return item ? { Item: structuredClone(item) } : {};
  };

  query = (input: QueryCommandInput) => {
    const values = input.ExpressionAttributeValues ?? {};
    let matches: Item[];
    if (input.IndexName === 'versionsByRun') {
      matches = [...this.items.values()]
        .filter((item) => item.vrun === values[':run'])
        .sort((a, b) => String(a.vdate).localeCompare(String(b.vdate)));
    } else if (input.IndexName) {
      const after = values[':after'] as string | undefined;
      const before = values[':before'] as string | undefined;
      matches = [...this.items.values()]
        .filter((item) => item.gsi1pk === values[':p'])
        .filter(
          (item) =>
            (after === undefined || String(item.gsi1sk) > after) &&
            (before === undefined || String(item.gsi1sk) < before),
        )
        .filter((item) => values[':status'] === undefined || item.status === values[':status'])
        .sort((a, b) => String(a.gsi1sk).localeCompare(String(b.gsi1sk)));
      if (input.ScanIndexForward === false) matches.reverse();
    } else {
      const prefix = String(values[':chunk'] ?? values[':month'] ?? values[':prefix'] ?? '');
      const low = values[':from'] as string | undefined;
      const high = values[':to'] as string | undefined;
      matches = [...this.items.values()]
        .filter((item) => item.pk === values[':pk'] && item.sk.startsWith(prefix))
        .filter((item) => (low === undefined || item.sk >= low) && (high === undefined || item.sk <= high))
        .sort((a, b) => a.sk.localeCompare(b.sk));
    }
    const start = input.ExclusiveStartKey
      ? matches.findIndex(
          (item) => item.pk === input.ExclusiveStartKey?.pk && item.sk === input.ExclusiveStartKey?.sk,
        ) + 1
      : 0;
    const size = Math.min(this.pageSize, input.Limit ?? Number.POSITIVE_INFINITY);
    const page = matches.slice(start, start + size);
    const last = page[page.length - 1];
    const more = start + size < matches.length;
    return {
      Items: page.map((item) => structuredClone(item)),
      ...(more && last ? { LastEvaluatedKey: { pk: last.pk, sk: last.sk } } : {}),
    };
  };
}

/** A run item as the fetcher writes it. */
export function runItem(runId: string, overrides: Partial<RunItem> = {}): RunItem {
  return {
    runId,
    environment: 'dev',
    trigger: 'manual',
    status: 'RUNNING',
    startedAt: '2026-11-25T11:00:00.000Z',
    dispatch: 'SENT',
    sources: [],
    months: ['2020-01', '2020-02'],
    skipped: { months: 0, records: 0 },
    ...overrides,
  };
}

/** A chunk item. */
export function chunkItem(runId: string, month: string, overrides: Partial<ChunkItem> = {}): ChunkItem {
  return { runId, month, hash: 'a'.repeat(64), stage: 'SENT', rejected: [], ...overrides };
}

/** The body of a loader-queue message for a run and month. */
export function chunkBody(runId: string, month: string): string {
  return JSON.stringify({ version: 1, runId, month, hash: 'a'.repeat(64), records: [], rejected: [] });
}
