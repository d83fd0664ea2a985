import { EVENT_SOURCE, EventDetailType, RUN_OUTCOME_EVENT_PATTERN } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  EventBusRequestError,
  InvalidEventPatternError,
  LocalEventBus,
  LocalQueue,
  ManualClock,
  matchesEventPattern,
  validateEventPattern,
} from '../src/index.js';

const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'EtlRunCompleted',
  source: 'covid-etl.pipeline',
  account: '000000000000',
  time: '2026-11-25T00:00:00Z',
  region: 'local',
  resources: ['arn:aws:dynamodb:local:000000000000:table/ledger'],
  detail: {
    version: 1,
    summary: { status: 'PARTIAL', counts: { inserted: 3, rejected: 2 }, months: ['2020-03', '2020-04'], note: null },
    sources: [
      { name: 'nyt', changed: true },
      { name: 'jhu', changed: false },
    ],
  },
};

describe('event patterns', () => {
  it.each([
    ['exact values in a list', { source: ['other', 'covid-etl.pipeline'] }, true],
    ['an exact value that differs', { source: ['other'] }, false],
    ['the project rule', RUN_OUTCOME_EVENT_PATTERN, true],
    ['nested objects', { detail: { summary: { status: ['PARTIAL'] } } }, true],
    ['nested objects that differ', { detail: { summary: { status: ['SUCCEEDED'] } } }, false],
    ['numbers compared as numbers', { detail: { summary: { counts: { inserted: [3.0] } } } }, true],
    ['a number does not equal its string', { detail: { summary: { counts: { inserted: ['3'] } } } }, false],
    ['null', { detail: { summary: { note: [null] } } }, true],
    ['prefix', { 'detail-type': [{ prefix: 'EtlRun' }] }, true],
    ['prefix that differs', { 'detail-type': [{ prefix: 'Run' }] }, false],
    ['prefix ignoring case', { 'detail-type': [{ prefix: { 'equals-ignore-case': 'etlrun' } }] }, true],
    ['suffix', { 'detail-type': [{ suffix: 'Completed' }] }, true],
    ['equals-ignore-case', { source: [{ 'equals-ignore-case': 'COVID-ETL.PIPELINE' }] }, true],
    ['wildcard', { 'detail-type': [{ wildcard: 'Etl*Completed' }] }, true],
    ['anything-but a value', { detail: { summary: { status: [{ 'anything-but': 'FAILED' }] } } }, true],
    [
      'anything-but a listed value',
      { detail: { summary: { status: [{ 'anything-but': ['PARTIAL', 'FAILED'] }] } } },
      false,
    ],
    ['anything-but a prefix', { source: [{ 'anything-but': { prefix: 'covid' } }] }, false],
    ['anything-but on a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
    ['exists true', { detail: { summary: { status: [{ exists: true }] } } }, true],
    ['exists true on a missing field', { detail: { summary: { reason: [{ exists: true }] } } }, false],
    ['exists false on a missing field', { detail: { summary: { reason: [{ exists: false }] } } }, true],
    ['exists false on a present field', { detail: { summary: { status: [{ exists: false }] } } }, false],
    ['numeric range', { detail: { summary: { counts: { rejected: [{ numeric: ['>', 0, '<=', 2] }] } } } }, true],
    ['numeric range missed', { detail: { summary: { counts: { rejected: [{ numeric: ['>=', 5] }] } } } }, false],
    ['numeric equality', { detail: { summary: { counts: { inserted: [{ numeric: ['=', 3] }] } } } }, true],
    ['an array value matches any element', { detail: { summary: { months: ['2020-04'] } } }, true],
    ['arrays of objects', { detail: { sources: { name: ['jhu'], changed: [false] } } }, true],
    ['resources', { resources: [{ suffix: 'table/ledger' }] }, true],
    ['$or', { $or: [{ source: ['x'] }, { 'detail-type': ['EtlRunCompleted'] }] }, true],
    ['$or with no branch matching', { $or: [{ source: ['x'] }, { 'detail-type': ['y'] }] }, false],
  ])('%s', (_label, pattern, expected) => {
    // Prepare
    validateEventPattern(pattern);

    // Act
    const matched = matchesEventPattern(pattern, event);

    // Assess
    expect(matched).toBe(expected);
  });

  it('refuses patterns EventBridge would refuse', () => {
    // Prepare
    const invalid: unknown[] = [
      null,
      {},
      { source: 'covid-etl.pipeline' },
      { source: [{ cidr: '10.0.0.0/24' }] },
      { source: [{ prefix: 1 }] },
      { detail: { n: [{ numeric: ['<', 5, '>', 1] }] } },
      { detail: { n: [{ numeric: ['!=', 5] }] } },
      { $or: [{ source: ['x'] }] },
    ];

    // Act
    const errors = invalid.map((pattern) => {
      try {
        validateEventPattern(pattern);
        return undefined;
      } catch (error) {
        return error;
      }
    });

    // Assess
    for (const error of errors) expect(error).toBeInstanceOf(InvalidEventPatternError);
  });
});

describe('LocalEventBus', () => {
  function busWithRule() {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 6, 30, 15, 123));
    const bus = new LocalEventBus({ name: 'covid-etl-local', clock });
    const queue = new LocalQueue({ name: 'notifier', clock });
    bus.addRule({ name: 'run-outcomes', eventPattern: RUN_OUTCOME_EVENT_PATTERN, target: queue });
    return { bus, queue };
  }

  it('delivers the full EventBridge envelope of a matching event to the rule target queue', () => {
    // Prepare
    const { bus, queue } = busWithRule();
    const detail = { version: 1, summary: { runId: 's-20261125T000000Z' } };

    // Act
    const result = bus.putEvents([
      {
        Source: EVENT_SOURCE,
        DetailType: EventDetailType.RunCompleted,
        Detail: JSON.stringify(detail),
        EventBusName: 'covid-etl-local',
      },
      { Source: EVENT_SOURCE, DetailType: 'SomethingElse', Detail: '{}' },
    ]);

    // Assess
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toEqual([{ EventId: expect.any(String) }, { EventId: expect.any(String) }]);
    const messages = queue.peek();
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]?.body ?? '')).toEqual({
      version: '0',
      id: (result.Entries[0] as { EventId: string }).EventId,
      'detail-type': 'EtlRunCompleted',
      source: 'covid-etl.pipeline',
      account: '000000000000',
      time: '2026-11-25T06:30:15Z',
      region: 'local',
      resources: [],
      detail,
    });
    expect(bus.events).toHaveLength(2);
  });

  it('reports invalid entries in FailedEntryCount and still puts the valid ones', () => {
    // Prepare
    const { bus, queue } = busWithRule();
    const valid = { Source: EVENT_SOURCE, DetailType: EventDetailType.RunFailed, Detail: '{"reason":"x"}' };

    // Act
    const result = bus.putEvents([
      valid,
      { ...valid, Detail: '{not json' },
      { ...valid, Detail: '[1,2]' },
      { DetailType: 'X', Detail: '{}' },
      { ...valid, EventBusName: 'no-such-bus' },
      { ...valid, Source: 'aws.events' },
      { ...valid, Detail: JSON.stringify({ big: 'x'.repeat(262_144) }) },
    ]);

    // Assess
    expect(result.FailedEntryCount).toBe(6);
    expect(result.Entries.map((e) => ('ErrorCode' in e ? e.ErrorCode : 'ok'))).toEqual([
      'ok',
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      'ResourceNotFoundException',
      'NotAuthorizedForSourceException',
      'InvalidArgument',
    ]);
    expect(queue.size).toBe(1);
  });

  it('refuses requests with no entry or more than 10, and fails injected entries with a retryable code', () => {
    // Prepare
    const { bus, queue } = busWithRule();
    const entry = { Source: EVENT_SOURCE, DetailType: EventDetailType.RunCompleted, Detail: '{}' };
    bus.failNextEntries(1, 'ThrottlingException');

    // Act
    const result = bus.putEvents([entry, entry]);

    // Assess
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries[0]).toEqual({ ErrorCode: 'ThrottlingException', ErrorMessage: expect.any(String) });
    expect(queue.size).toBe(1);
    expect(() => bus.putEvents([])).toThrow(EventBusRequestError);
    expect(() => bus.putEvents(Array.from({ length: 11 }, () => entry))).toThrow(/length between 1 and 10/);
  });
});
