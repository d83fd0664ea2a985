import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dateRange, jhuCsv, nytCsv } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { FAULT_MODES, FAULT_SERVICES, type FaultMode, type FaultService } from '../src/faults.js';
import { LocalPipeline } from '../src/pipeline.js';

/**
 * Every ETL_FAULTS mode does what it says for every service it names: the fault fires (the
 * service's queue delivers messages again, or parks them in its DLQ), and the run ends as the
 * mode implies.
 */
const QUEUE: Record<FaultService, 'transformer' | 'loader' | 'notifier'> = {
  transformer: 'transformer',
  loader: 'loader',
  notifier: 'notifier',
};

async function runWith(service: FaultService, mode: FaultMode) {
  const dir = mkdtempSync(path.join(tmpdir(), `etl-fault-${service}-${mode}-`));
  const days = dateRange('2020-03-01', 61);
  const nyt = path.join(dir, 'nyt.csv');
  const jhu = path.join(dir, 'jhu.csv');
  writeFileSync(nyt, nytCsv(days.map((date, i) => ({ date, cases: 100 + i, deaths: i }))));
  writeFileSync(jhu, jhuCsv(days.map((date) => ({ date, recovered: 0 }))));
  const pipeline = await LocalPipeline.open({ dir, faults: { [service]: mode } });
  try {
    const run = await pipeline.run({
      trigger: 'manual',
      sources: { nyt: pathToFileURL(nyt).href, jhu: pathToFileURL(jhu).href },
    });
    const { queue, deadLetterQueue } = pipeline.queues[QUEUE[service]];
    const emails = readdirSync(pipeline.outboxDir).filter((file) => file.endsWith('.eml')).length;
    return { run, stats: { ...queue.stats }, parked: deadLetterQueue.peek().length, emails };
  } finally {
    await pipeline.close();
  }
}

describe.each(FAULT_SERVICES.map((service) => [service]))('ETL_FAULTS for the %s', (service) => {
  it.each(FAULT_MODES.map((mode) => [mode]))('%s fires and the run ends as it implies', async (mode) => {
    // Act
    const { run, stats, parked, emails } = await runWith(service, mode as FaultMode);

    // Assess: the fault fired.
    if (mode === 'fail') {
      expect(parked).toBeGreaterThan(0);
    } else {
      expect(stats.received).toBeGreaterThan(stats.sent);
      expect(parked).toBe(0);
    }
    // ... and the run ended as the mode implies.
    if (mode !== 'fail') {
      expect(run.status).toBe('SUCCEEDED');
      expect(emails).toBe(1);
    } else if (service === 'notifier') {
      expect(run.status).toBe('SUCCEEDED');
      expect(emails).toBe(0);
    } else {
      expect(run.status).toBe('INCOMPLETE');
      expect(emails).toBe(1);
    }
  });
});
