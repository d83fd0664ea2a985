/**
 * Benchmark of a persisted local queue: the cost of one change as the queue grows. For each
 * queue length it fills a queue in a temporary folder with 1 KB messages, then times
 * send + receive + delete cycles (3 changes each) and prints min/median microseconds per change
 * over BENCH_REPEATS rounds, and the bytes written per change (file growth and rewrites).
 *
 *   pnpm --filter @covid-etl/local-stack bench [--json]      (BENCH_QUEUE_LENGTHS=100,1000,5000)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalQueue } from '../src/index.js';

const LENGTHS = (process.env.BENCH_QUEUE_LENGTHS ?? '100,1000,5000').split(',').map(Number);
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? '5'));
const CYCLES = 100;
const BODY = JSON.stringify({ padding: 'x'.repeat(1_000) });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Bytes of the queue's files on disk (a rewrite shows as the whole file again, see below). */
function fileBytes(queue: LocalQueue): number {
  let bytes = 0;
  for (const file of [queue.statePath, queue.logPath]) {
    try {
      bytes += statSync(file ?? '').size;
    } catch {
      // not written yet
    }
  }
  return bytes;
}

const rows = [];
for (const length of LENGTHS) {
  const dir = mkdtempSync(path.join(tmpdir(), 'covid-etl-queue-bench-'));
  try {
    const queue = new LocalQueue({ name: 'bench', stateDir: dir, visibilityTimeoutSeconds: 0 });
    for (let start = 0; start < length; start += 10) {
      queue.sendBatch(
        Array.from({ length: Math.min(10, length - start) }, (_, i) => ({ Id: `m${i}`, MessageBody: BODY })),
      );
    }
    const perChange: number[] = [];
    let written = 0;
    let changes = 0;
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const start = performance.now();
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const before = fileBytes(queue);
        const snapshotBefore = queue.statePath ? statSync(queue.statePath).mtimeMs : 0;
        queue.send(BODY);
        const [message] = queue.receive();
        queue.deleteMessage(message?.receiptHandle ?? '');
        const after = fileBytes(queue);
        // A rewritten snapshot counts whole; an appended log counts by its growth.
        const rewritten = queue.statePath && statSync(queue.statePath).mtimeMs !== snapshotBefore;
        written += rewritten ? after : Math.max(0, after - before);
        changes += 3;
      }
      perChange.push(((performance.now() - start) * 1000) / (CYCLES * 3));
    }
    rows.push({
      'queue length': length,
      'changes timed': changes,
      'µs/change min': Math.round(Math.min(...perChange)),
      'µs/change median': Math.round(median(perChange)),
      'bytes written/change': Math.round(written / changes),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.table(rows);
if (process.argv.includes('--json')) console.log(JSON.stringify({ benchmark: 'queue', repeats: REPEATS, rows }));
