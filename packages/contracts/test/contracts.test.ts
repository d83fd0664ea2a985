import { describe, expect, it } from '@jest/globals';
import {
  assertQueueSettings,
  describeRejections,
  describeRunCosts,
  dlqName,
  EtlRunCompleted,
  isRealDate,
  levelCountsOf,
  QUEUES,
  queueName,
  RunId,
  RunSummary,
} from '../src/index.js';

const summary: RunSummary = {
  runId: 's-20261125T000000Z',
  environment: 'dev',
  status: 'SUCCEEDED',
  trigger: 'schedule',
  startedAt: '2026-11-25T00:00:01.000Z',
  counts: { inserted: 1, updated: 0, unchanged: 0, rejected: 0 },
  dateRange: { from: '2020-01-22', to: '2020-01-22' },
  sources: [],
  chunks: { expected: 1, loaded: 1, skipped: 0 },
  rejectedRows: [],
};

describe('contracts', () => {
  it('accepts real calendar dates only', () => {
    expect(isRealDate('2020-02-29')).toBe(true);
    expect(isRealDate('2021-02-29')).toBe(false);
    expect(isRealDate('2020-1-05')).toBe(false);
  });

  it('every queue obeys the AWS rules (visibility >= 6x timeout + window, receive count, DLQ retention)', () => {
    for (const settings of Object.values(QUEUES)) {
      expect(() => assertQueueSettings(settings)).not.toThrow();
    }
    expect(() => assertQueueSettings({ ...QUEUES.loader, visibilityTimeoutSeconds: 60 })).toThrow(/visibility timeout/);
    expect(() => assertQueueSettings({ ...QUEUES.loader, maxReceiveCount: 2 })).toThrow(/maxReceiveCount/);
  });

  it('names queues after the environment', () => {
    expect(queueName('dev', 'loader')).toBe('covid-etl-dev-loader');
    expect(dlqName('prod', 'transformer')).toBe('covid-etl-prod-transformer-dlq');
  });

  it('validates run ids and completed events', () => {
    expect(RunId.safeParse('s-20261125T000000Z').success).toBe(true);
    expect(RunId.safeParse('m-20261125T101010Z-0a1b2c').success).toBe(true);
    expect(RunId.safeParse('run-1').success).toBe(false);
    expect(EtlRunCompleted.safeParse({ version: 1, summary }).success).toBe(true);
    expect(EtlRunCompleted.safeParse({ version: 1, summary: { ...summary, status: 'FAILED' } }).success).toBe(false);
  });

  it("carries a run summary's cost drivers; a summary written before them stays valid", () => {
    // Prepare
    const costs = {
      dynamoReadRequests: 40,
      dynamoWriteRequests: 900,
      dynamoReadUnits: 20.5,
      dynamoWriteUnits: 880,
      sqsMessagesSent: 78,
      sqsSendRequests: 43,
      sqsMessagesReceived: 80,
      eventsPut: 1,
      bytesDownloaded: 4_230_000,
    };

    // Act
    const parsed = RunSummary.parse({ ...summary, costs });
    const old = RunSummary.safeParse(summary);
    const negative = RunSummary.safeParse({ ...summary, costs: { ...costs, eventsPut: -1 } });

    // Assess
    expect(parsed.costs).toEqual(costs);
    expect(old.success).toBe(true);
    expect(negative.success).toBe(false);
  });
});

describe('run costs, for people', () => {
  it('groups the digits of every figure, half capacity units included', () => {
    const costs = {
      dynamoReadRequests: 22_822,
      dynamoReadUnits: 915_687.5,
      dynamoWriteRequests: 82_761,
      dynamoWriteUnits: 1_891_210,
      sqsMessagesSent: 1_602,
      sqsSendRequests: 1_141,
      sqsMessagesReceived: 1_602,
      eventsPut: 1,
      bytesDownloaded: 37_826_448,
    };
    expect(describeRunCosts(costs)).toBe(
      'DynamoDB 22,822 reads (915,687.5 RCU), 82,761 writes (1,891,210 WCU); SQS 1,602 messages sent ' +
        '(1,141 requests), 1,602 received; 1 event; 37.8 MB downloaded',
    );
    expect(describeRunCosts({ ...costs, dynamoReadUnits: 60.5, eventsPut: 0, bytesDownloaded: 0 })).toContain(
      '(60.5 RCU)',
    );
  });
});

describe('rejections and levels, for people', () => {
  it('says how many rows each level and file rejected, in one line', () => {
    expect(
      describeRejections([
        { level: 'nation', source: 'nyt', rows: 1 },
        { level: 'county', source: 'counties-recent', rows: 1_204 },
      ]),
    ).toBe('1,205 rows rejected: 1 in nyt (nation), 1,204 in us-counties-recent.csv (county); every other row loaded');
    expect(describeRejections([{ level: 'state', source: 'states', rows: 1 }])).toBe(
      '1 row rejected: 1 in us-states.csv (state); every other row loaded',
    );
    expect(describeRejections([])).toBe('');
  });

  it('gives the levels of a run with states or counties in level order, and none for the nation alone', () => {
    const c = (n: number) => ({ inserted: n, updated: 0, unchanged: 0, rejected: 0 });
    expect(levelCountsOf({ county: c(3), nation: c(1), state: c(2) })).toEqual([
      ['nation', c(1)],
      ['state', c(2)],
      ['county', c(3)],
    ]);
    expect(levelCountsOf({ nation: c(1) })).toEqual([]);
    expect(levelCountsOf(undefined)).toEqual([]);
  });

  it('accepts a summary with rejections, and refuses an unknown level', () => {
    expect(
      RunSummary.safeParse({ ...summary, rejections: [{ level: 'state', source: 'states', rows: 2 }] }).success,
    ).toBe(true);
    expect(
      RunSummary.safeParse({ ...summary, rejections: [{ level: 'city', source: 'states', rows: 2 }] }).success,
    ).toBe(false);
  });
});
