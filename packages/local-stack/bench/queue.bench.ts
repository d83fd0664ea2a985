/**
 * Benchmarks of a persisted local queue.
 *
 * 1. The cost of one change as the queue grows. For each queue length it fills a queue in a
 *    temporary folder with 1 KB messages, then times send + receive + delete cycles (3 changes
 *    each) and prints min/median microseconds per change over BENCH_REPEATS rounds, and the
 *    bytes written per change (what the process passed to write(), Linux `/proc/self/io` wchar:
 *    log appends, snapshot rewrites and body files alike).
 * 2. Large bodies, as in a county backfill: BENCH_BODY_MESSAGES messages of BENCH_BODY_BYTES
 *    each are sent, received once and deleted. It prints the heap the queue holds (heapUsed
 *    after a full GC, minus the same before the queue existed) when all are queued and when all
 *    are in flight, and the bytes the process passed to write() in each phase (Linux
 *    wchar, as above).
 *
 *   pnpm --filter @covid-etl/local-stack bench [--json]
 *   (BENCH_QUEUE_LENGTHS=100,1000,5000, empty to skip; BENCH_BODY_MESSAGES=3000, 0 to skip;
 *    BENCH_BODY_BYTES=130000)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalQueue } from '../src/index.js';

const LENGTHS = (process.env.BENCH_QUEUE_LENGTHS ?? '100,1000,5000')
  .split(',')
  .filter((length) => length.trim() !== '')
  .map(Number);
const BODY_MESSAGES = Number(process.env.BENCH_BODY_MESSAGES ?? '3000');
const BODY_BYTES = Number(process.env.BENCH_BODY_BYTES ?? '130000');
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? '5'));
const CYCLES = 100;
const BODY = JSON.stringify({ padding: 'x'.repeat(1_000) });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Bytes this process has passed to write() so far (Linux), or NaN where /proc is missing. */
function bytesWritten(): number {
  try {
    return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
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
        const before = bytesWritten();
        queue.send(BODY);
        const [message] = queue.receive();
        queue.deleteMessage(message?.receiptHandle ?? '');
        written += bytesWritten() - before;
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
if (rows.length > 0) console.table(rows);

/** Heap in use after a full collection (needs --expose-gc, which the bench script passes). */
function heapAfterGc(): number {
  if (typeof globalThis.gc !== 'function') throw new Error('Run the bench with --expose-gc (pnpm bench does)');
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/** A new flat string of `bytes` ASCII characters, distinct per index (no shared or sliced string). */
function largeBody(index: number, bytes: number): string {
  const buffer = Buffer.alloc(bytes, 'x');
  buffer.write(`{"n":${index},"padding":"`);
  buffer.write('"}', bytes - 2);
  return buffer.toString('latin1');
}

function directoryBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

const MB = 1024 * 1024;
let bodies: Record<string, number | string> | undefined;
if (BODY_MESSAGES > 0) {
  const dir = mkdtempSync(path.join(tmpdir(), 'covid-etl-queue-bench-'));
  try {
    const baseline = heapAfterGc();
    const queue = new LocalQueue({ name: 'bodies', stateDir: dir, visibilityTimeoutSeconds: 600 });
    let written = bytesWritten();
    const phase = () => {
      const now = bytesWritten();
      const delta = now - written;
      written = now;
      return delta;
    };
    let start = performance.now();
    for (let index = 0; index < BODY_MESSAGES; index++) queue.send(largeBody(index, BODY_BYTES));
    const sendMs = performance.now() - start;
    const sendWritten = phase();
    const heapQueued = heapAfterGc() - baseline;
    start = performance.now();
    const handles: string[] = [];
    for (;;) {
      const received = queue.receive({ maxMessages: 10 });
      if (received.length === 0) break;
      for (const message of received) handles.push(message.receiptHandle);
    }
    const receiveMs = performance.now() - start;
    const receiveWritten = phase();
    const heapInFlight = heapAfterGc() - baseline;
    start = performance.now();
    for (const handle of handles) queue.deleteMessage(handle);
    const deleteMs = performance.now() - start;
    const deleteWritten = phase();
    bodies = {
      messages: BODY_MESSAGES,
      'body bytes': BODY_BYTES,
      received: handles.length,
      'heap MB, all queued': +(heapQueued / MB).toFixed(1),
      'heap MB, all in flight': +(heapInFlight / MB).toFixed(1),
      'written MB: send': +(sendWritten / MB).toFixed(1),
      'written MB: receive': +(receiveWritten / MB).toFixed(1),
      'written MB: delete': +(deleteWritten / MB).toFixed(1),
      's: send / receive / delete': [sendMs, receiveMs, deleteMs].map((ms) => (ms / 1000).toFixed(1)).join(' / '),
      'MB on disk after': +(directoryBytes(dir) / MB).toFixed(2),
    };
    console.table(bodies);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (process.argv.includes('--json'))
  console.log(JSON.stringify({ benchmark: 'queue', repeats: REPEATS, rows, bodies }));
