import { describe, expect, it } from '@jest/globals';
import { describeDrain, formatDuration, formatTable } from '../src/format.js';

describe('formatDuration', () => {
  it.each([
    [undefined, '-'],
    [523, '523 ms'],
    [12_340, '12.3 s'],
    [59_940, '59.9 s'],
    [119_600, '2 min 0 s'],
    [2_257_400, '37 min 37 s'],
    [4_225_000, '70 min 25 s'],
  ])('%p ms reads %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('describeDrain', () => {
  it('gives the time, the invocations and what each queue still holds, with its DLQ when not empty', () => {
    // Prepare
    const queue = (name: string, visible: number, dlq?: number) => ({
      queue: `covid-etl-local-${name}`,
      visible,
      inFlight: 1,
      runningInvocations: 1,
      ...(dlq === undefined ? {} : { deadLetterQueue: { name: `covid-etl-local-${name}-dlq`, messages: dlq } }),
    });

    // Act
    const line = describeDrain({
      elapsedMs: 2_232_700,
      invocations: 205,
      queues: [queue('transformer', 0, 0), queue('loader', 397, 2), queue('notifier', 0)],
    });

    // Assess
    expect(line).toBe('  37 min 13 s · 205 invocations · waiting: transformer 1 · loader 398 (DLQ 2) · notifier 1');
  });
});

describe('formatTable', () => {
  it('makes each column as wide as its widest cell, numbers right-aligned, no trailing spaces', () => {
    // Act: a queue name longer than any before, a count in millions, a row that stops early.
    const text = formatTable(
      [{ title: 'QUEUE' }, { title: 'DLQ' }, { title: 'MESSAGES', numeric: true }, { title: 'REPLAYS TO' }],
      [
        ['loader', 'covid-etl-a-very-long-environment-name-loader-dlq', '3,123', 'loader'],
        ['notifier', 'covid-etl-dev-notifier-dlq', '0', '-'],
        ['  county', '', '12,345,678'],
      ],
    );

    // Assess
    const lines = text.split('\n');
    expect(lines).toEqual([
      'QUEUE     DLQ                                                  MESSAGES  REPLAYS TO',
      'loader    covid-etl-a-very-long-environment-name-loader-dlq       3,123  loader',
      'notifier  covid-etl-dev-notifier-dlq                                  0  -',
      '  county                                                     12,345,678',
    ]);
    for (const line of lines) expect(line).toBe(line.trimEnd());
  });
});
