import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_MESSAGE_BYTES, QUEUES } from '@covid-etl/contracts';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createQueueWithDeadLetterQueue,
  LocalQueue,
  ManualClock,
  QueueRequestError,
  QueueStateError,
  readLocalQueueMessages,
} from '../src/index.js';

let stateDir: string;
let clock: ManualClock;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'local-queue-'));
  clock = new ManualClock();
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

function queuePair(maxReceiveCount = 3, inlineBodyMax?: number) {
  const inline = inlineBodyMax === undefined ? {} : { inlineBodyMax };
  const deadLetterQueue = new LocalQueue({ name: 'work-dlq', stateDir, clock, ...inline });
  const queue = new LocalQueue({
    name: 'work',
    stateDir,
    clock,
    ...inline,
    visibilityTimeoutSeconds: 180,
    timeScale: 0.005,
    redrive: { deadLetterQueue, maxReceiveCount },
  });
  return { queue, deadLetterQueue };
}

/** A message as a v1 or v2 state file holds it (body inline), sent now and never received. */
function fileMessage(messageId: string, body: string) {
  const now = clock.now().getTime();
  return {
    messageId,
    body,
    messageAttributes: {},
    md5OfBody: 'x',
    sentTimestamp: now,
    enqueuedTimestamp: now,
    approximateReceiveCount: 0,
    approximateFirstReceiveTimestamp: null,
    receiptHandle: null,
    visibleAt: now,
  };
}

describe('LocalQueue: visibility and receive counts', () => {
  it('hides a received message for the scaled visibility timeout, then redelivers it with a higher receive count', () => {
    // Prepare
    const { queue } = queuePair();
    const { MessageId } = queue.send('{"month":"2020-03"}');

    // Act
    const [first] = queue.receive({ maxMessages: 10 });
    clock.advance(899); // 180 s x 0.005 = 900 ms
    const whileHidden = queue.receive({ maxMessages: 10 });
    const countsWhileHidden = [queue.approximateNumberOfMessages, queue.approximateNumberOfMessagesNotVisible];
    clock.advance(1);
    const [second] = queue.receive({ maxMessages: 10 });

    // Assess
    expect(first?.messageId).toBe(MessageId);
    expect(first?.approximateReceiveCount).toBe(1);
    expect(whileHidden).toEqual([]);
    expect(countsWhileHidden).toEqual([0, 1]);
    expect(second?.messageId).toBe(MessageId);
    expect(second?.approximateReceiveCount).toBe(2);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    expect(second?.approximateFirstReceiveTimestamp).toBe(first?.approximateFirstReceiveTimestamp);
    expect(queue.timeScale).toBe(0.005);
    expect(queue.scaledMs(180)).toBe(900);
  });

  it('deletes only with the latest receipt handle', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    const [first] = queue.receive();
    clock.advance(900);
    const [second] = queue.receive();

    // Act
    const withOldHandle = queue.deleteMessage(first?.receiptHandle ?? '');
    const withLatestHandle = queue.deleteMessage(second?.receiptHandle ?? '');

    // Assess
    expect(withOldHandle).toBe(false);
    expect(withLatestHandle).toBe(true);
    expect(queue.size).toBe(0);
  });

  it('changes the visibility of an in-flight message only', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    const [received] = queue.receive();
    const handle = received?.receiptHandle ?? '';

    // Act
    const madeVisible = queue.changeVisibility(handle, 0);
    const again = queue.changeVisibility(handle, 10);

    // Assess
    expect(madeVisible).toBe(true);
    expect(again).toBe(false);
    expect(queue.approximateNumberOfMessages).toBe(1);
    expect(() => queue.changeVisibility(handle, 43_201)).toThrow(QueueRequestError);
  });
  it('keeps a held message invisible past its timeout, and restarts the timeout on release', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('slow');
    const [received] = queue.receive();
    const handle = received?.receiptHandle ?? '';

    // Act
    queue.hold(handle);
    clock.advance(5_000);
    const whileHeld = queue.receive();
    queue.release(handle);
    const justReleased = queue.receive();
    clock.advance(900);
    const afterTimeout = queue.receive();

    // Assess
    expect(whileHeld).toEqual([]);
    expect(justReleased).toEqual([]);
    expect(afterTimeout.map((m) => m.approximateReceiveCount)).toEqual([2]);
  });
  it('counts every message as visible or not at one instant, even when its timeout runs out while it counts', () => {
    // Prepare: a clock that moves on 1 ms at each read once `ticking`, and a message whose
    // visibility timeout runs out between the first read and the second.
    let now = 1_000_000;
    let ticking = false;
    const queue = new LocalQueue({
      name: 'work',
      stateDir,
      visibilityTimeoutSeconds: 180,
      timeScale: 0.005,
      clock: { now: () => new Date(ticking ? now++ : now) },
    });
    queue.send('slow');
    queue.receive();
    now += 899; // visible again at +900

    // Act
    ticking = true;
    const first = queue.counts();
    const second = queue.counts();

    // Assess
    expect(first).toEqual({ visible: 0, notVisible: 1 });
    expect(second).toEqual({ visible: 1, notVisible: 0 });
  });
});

describe('LocalQueue: redrive to the dead-letter queue', () => {
  it('moves a message to the DLQ on the receive after maxReceiveCount receives, keeping its id and sent time', () => {
    // Prepare
    const { queue, deadLetterQueue } = queuePair(3);
    const { MessageId } = queue.send('poison');
    const deliveries: number[] = [];

    // Act
    for (let i = 0; i < 5; i += 1) {
      const [message] = queue.receive({ maxMessages: 10 });
      if (message) deliveries.push(message.approximateReceiveCount);
      clock.advance(900);
    }

    // Assess
    expect(deliveries).toEqual([1, 2, 3]);
    expect(queue.size).toBe(0);
    const [parked] = deadLetterQueue.peek();
    expect(parked?.messageId).toBe(MessageId);
    expect(parked?.body).toBe('poison');
    expect(parked?.sentTimestamp).toBeLessThan(parked?.enqueuedTimestamp ?? 0);
    expect(parked?.deadLetterQueueSourceArn).toBe(queue.arn);
    expect(queue.stats.movedToDeadLetterQueue).toBe(1);
  });

  it('builds a queue and its DLQ from the project queue settings', () => {
    // Prepare
    const settings = QUEUES.loader;

    // Act
    const { queue, deadLetterQueue } = createQueueWithDeadLetterQueue({
      name: 'covid-etl-local-loader',
      settings,
      stateDir,
      timeScale: 0.01,
    });

    // Assess
    expect(deadLetterQueue.name).toBe('covid-etl-local-loader-dlq');
    expect(queue.redrive?.maxReceiveCount).toBe(settings.maxReceiveCount);
    expect(queue.redrive?.deadLetterQueue).toBe(deadLetterQueue);
    expect(queue.visibilityTimeoutSeconds).toBe(settings.visibilityTimeoutSeconds);
    // 1,000 ms per second at a time scale of 0.01.
    expect(queue.scaledMs(queue.visibilityTimeoutSeconds)).toBe(settings.visibilityTimeoutSeconds * 10);
    expect(deadLetterQueue.messageRetentionSeconds).toBe(settings.dlqMessageRetentionSeconds);
  });
});

describe('LocalQueue: persistence', () => {
  it('keeps messages, receive counts and visibility across two instances on the same folder', () => {
    // Prepare
    const first = queuePair();
    first.queue.send('kept-1', { runId: { DataType: 'String', StringValue: 'm-1' } });
    first.queue.send('kept-2');
    first.queue.receive();
    first.deadLetterQueue.send('parked');

    // Act
    const second = queuePair();

    // Assess
    expect(second.queue.peek().map((m) => [m.body, m.approximateReceiveCount])).toEqual([
      ['kept-1', 1],
      ['kept-2', 0],
    ]);
    expect(second.queue.peek()[0]?.messageAttributes).toEqual({ runId: { DataType: 'String', StringValue: 'm-1' } });
    expect(second.queue.approximateNumberOfMessagesNotVisible).toBe(1);
    expect(second.deadLetterQueue.peek().map((m) => m.body)).toEqual(['parked']);
    expect(readLocalQueueMessages(stateDir, 'work')).toHaveLength(2);
  });

  it('lets a tool read the messages, log included, without writing anything', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('in the snapshot');
    queue.send('in the log');
    queue.receive();
    const before = readFileSync(queue.logPath ?? '', 'utf8');

    // Act
    const messages = readLocalQueueMessages(stateDir, 'work');

    // Assess
    expect(messages.map((m) => [m.body, m.approximateReceiveCount])).toEqual([
      ['in the snapshot', 1],
      ['in the log', 0],
    ]);
    expect(readFileSync(queue.logPath ?? '', 'utf8')).toBe(before);
    expect(readLocalQueueMessages(stateDir, 'no-such-queue')).toEqual([]);
  });

  it('writes a redrive to the DLQ to both state files, so another instance does not park it again', () => {
    // Prepare: one message received up to maxReceiveCount, then visible again.
    const first = queuePair(2);
    first.queue.send('poison');
    first.queue.receive();
    clock.advance(1_000);
    first.queue.receive();
    clock.advance(1_000);

    // Act: the receive that redrives is the only change to the source queue.
    const received = first.queue.receive();
    const second = queuePair(2);

    // Assess
    expect(received).toEqual([]);
    expect(second.queue.peek()).toEqual([]);
    expect(second.deadLetterQueue.peek().map((m) => m.body)).toEqual(['poison']);
  });

  it('refuses a corrupt state file instead of dropping its messages', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    writeFileSync(queue.statePath ?? '', '{ not json');

    // Act
    const reopen = () => new LocalQueue({ name: 'work', stateDir });

    // Assess
    expect(reopen).toThrow(QueueStateError);
    expect(reopen).toThrow(/not valid JSON/);
  });
});

describe('LocalQueue: the change log', () => {
  const body = (index: number) => JSON.stringify({ index, padding: 'x'.repeat(200) });

  it('appends each change to the log instead of rewriting the queue, whatever its length', () => {
    // Prepare: a long queue, reopened.
    const first = new LocalQueue({ name: 'long', stateDir, clock });
    for (let index = 0; index < 300; index++) first.send(body(index));
    const queue = new LocalQueue({ name: 'long', stateDir, clock });
    const lengthBefore = queue.size;
    const snapshotBefore = statSync(queue.statePath ?? '');
    const logBefore = statSync(queue.logPath ?? '').size;

    // Act: one of each change.
    queue.send(body(300));
    const [received] = queue.receive();
    queue.changeVisibility(received?.receiptHandle ?? '', 60);
    queue.deleteMessage(received?.receiptHandle ?? '');

    // Assess: the snapshot was not rewritten; the log grew by about three messages.
    expect(lengthBefore).toBe(300);
    const snapshotAfter = statSync(queue.statePath ?? '');
    expect([snapshotAfter.ino, snapshotAfter.size, snapshotAfter.mtimeMs]).toEqual([
      snapshotBefore.ino,
      snapshotBefore.size,
      snapshotBefore.mtimeMs,
    ]);
    const grown = statSync(queue.logPath ?? '').size - logBefore;
    expect(grown).toBeGreaterThan(0);
    expect(grown).toBeLessThan(4 * 600);
    expect(new LocalQueue({ name: 'long', stateDir, clock }).size).toBe(300);
  });

  it('folds the log into the snapshot once it outgrows it, so the log stays bounded, and reloads the same state', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'busy', stateDir, clock, visibilityTimeoutSeconds: 0 });
    for (let index = 0; index < 5; index++) queue.send(body(index));
    let largestLog = 0;

    // Act: thousands of receives, each rewriting one message's state in the log.
    for (let round = 0; round < 3_000; round++) {
      queue.receive({ maxMessages: 1 });
      largestLog = Math.max(largestLog, statSync(queue.logPath ?? '').size);
    }

    // Assess
    expect(largestLog).toBeLessThanOrEqual(256 * 1024);
    const reopened = new LocalQueue({ name: 'busy', stateDir, clock, visibilityTimeoutSeconds: 0 });
    expect(reopened.peek()).toEqual(queue.peek());
    // A visibility timeout of 0 and delivery in send order: the first message every time.
    expect(reopened.peek().map((m) => m.approximateReceiveCount)).toEqual([3_000, 0, 0, 0, 0]);
  });

  it('opens a queue without rewriting its files, appending to the log that continues its snapshot', () => {
    // Prepare: a queue with changes in its log.
    const queue = new LocalQueue({ name: 'work', stateDir, clock });
    queue.send('a');
    queue.send('b');
    const files = () => [statSync(queue.statePath ?? '').ino, statSync(queue.logPath ?? '').ino];
    const before = files();

    // Act: open it twice, change it, and open it again.
    const reopened = new LocalQueue({ name: 'work', stateDir, clock });
    const again = new LocalQueue({ name: 'work', stateDir, clock });
    again.send('c');
    const last = new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(files()).toEqual(before);
    expect(reopened.peek().map((m) => m.body)).toEqual(['a', 'b']);
    expect(last.peek().map((m) => m.body)).toEqual(['a', 'b', 'c']);
    expect(readLocalQueueMessages(stateDir, 'work').map((m) => m.body)).toEqual(['a', 'b', 'c']);
  });

  it('folds a log over 16 KiB at open, so that later opens do not read the changes of messages long gone', () => {
    // Prepare: 100 messages sent, received and deleted: an empty queue with ~60 KB of log.
    const queue = new LocalQueue({ name: 'work', stateDir, clock, visibilityTimeoutSeconds: 0 });
    for (let index = 0; index < 100; index++) queue.send(`${index}`.padEnd(300, '.'));
    for (let index = 0; index < 100; index++) {
      const [received] = queue.receive();
      queue.deleteMessage(received?.receiptHandle ?? '');
    }
    const logBefore = statSync(queue.logPath ?? '').size;

    // Act
    const reopened = new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(queue.size).toBe(0);
    expect(logBefore).toBeGreaterThan(16 * 1024);
    expect(statSync(reopened.logPath ?? '').size).toBeLessThan(100);
    expect(reopened.size).toBe(0);
  });

  it('folds the log at open when its last line is torn, so that later appends stay readable', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'work', stateDir, clock });
    queue.send('a');
    queue.send('b');
    appendFileSync(queue.logPath ?? '', '{"put":{"messageId":"torn","bo');
    const snapshotBefore = statSync(queue.statePath ?? '').ino;

    // Act
    const reopened = new LocalQueue({ name: 'work', stateDir, clock });
    reopened.send('c');
    const last = new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(statSync(queue.statePath ?? '').ino).not.toBe(snapshotBefore);
    expect(last.peek().map((m) => m.body)).toEqual(['a', 'b', 'c']);
  });

  it('drops a torn last log line (a crash mid-append) and keeps every completed change', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'work', stateDir, clock });
    queue.send('a');
    queue.send('b');
    appendFileSync(queue.logPath ?? '', '{"put":{"messageId":"torn","bo');

    // Act
    const reopened = new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(reopened.peek().map((m) => m.body)).toEqual(['a', 'b']);
  });

  it('ignores a log of an older generation (a crash after the new snapshot, before the new log)', () => {
    // Prepare: the log holding "a" (the first change goes to the snapshot), then a purge folds it.
    const queue = new LocalQueue({ name: 'work', stateDir, clock });
    queue.send('first');
    const { MessageId } = queue.send('a');
    const oldLog = readFileSync(queue.logPath ?? '', 'utf8');
    queue.purge();
    writeFileSync(queue.logPath ?? '', oldLog);

    // Act: reopen it, then change it and reopen it again (the stale log must not be continued).
    const reopened = new LocalQueue({ name: 'work', stateDir, clock });
    const afterOpen = reopened.peek();
    reopened.send('b');
    const last = new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(oldLog).toContain(MessageId);
    expect(afterOpen).toEqual([]);
    expect(last.peek().map((m) => m.body)).toEqual(['b']);
  });

  it('refuses a log line that is not a change, naming the line', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'work', stateDir, clock });
    queue.send('a');
    appendFileSync(queue.logPath ?? '', 'not a change\n');
    queue.send('b');

    // Act
    const reopen = () => new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(reopen).toThrow(QueueStateError);
    expect(reopen).toThrow(/work\.log line 2 is not a valid change/);
  });

  it('reads a version 1 state file (one JSON file, no log)', () => {
    // Prepare
    const message = fileMessage('m-1', 'from v1');
    const queue = new LocalQueue({ name: 'work', stateDir, clock });
    queue.send('to be replaced');
    rmSync(queue.logPath ?? '');
    writeFileSync(
      queue.statePath ?? '',
      JSON.stringify({ format: 'covid-etl-local-queue', version: 1, name: 'work', messages: [message] }),
    );

    // Act
    const reopened = new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(reopened.peek()).toEqual([message]);
  });
});

describe('LocalQueue: message bodies on disk (every body in a file: inlineBodyMax 0)', () => {
  const marker = (name: string) => `${name}-${'b'.repeat(500)}`;
  const bodyFile = (queue: LocalQueue, messageId: string) => path.join(queue.bodiesDir ?? '', messageId);
  const queueFiles = (queue: LocalQueue) =>
    `${readFileSync(queue.statePath ?? '', 'utf8')}${readFileSync(queue.logPath ?? '', 'utf8')}`;

  it('writes no body on receive, visibility change, hold/release or delete: the log holds metadata only', () => {
    // Prepare
    const { queue } = queuePair(3, 0);
    const { MessageId } = queue.send(marker('big'));
    const fileBefore = statSync(bodyFile(queue, MessageId));

    // Act
    const [received] = queue.receive();
    const handle = received?.receiptHandle ?? '';
    queue.changeVisibility(handle, 1);
    queue.hold(handle);
    clock.advance(10_000);
    queue.release(handle);
    const fileAfter = statSync(bodyFile(queue, MessageId));
    const filesBeforeDelete = queueFiles(queue);
    queue.deleteMessage(handle);

    // Assess: the body came back from its file, which none of these calls rewrote, and no
    // snapshot or log line holds it; the delete removed the file.
    expect(received?.body).toBe(marker('big'));
    expect([fileAfter.ino, fileAfter.mtimeMs, fileAfter.size]).toEqual([
      fileBefore.ino,
      fileBefore.mtimeMs,
      fileBefore.size,
    ]);
    expect(filesBeforeDelete).toContain(MessageId);
    expect(filesBeforeDelete).not.toContain('big-');
    expect(readdirSync(queue.bodiesDir ?? '')).toEqual([]);
  });

  it('reads a body from its file at each receive and peek, not from memory', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0, visibilityTimeoutSeconds: 0 });
    const { MessageId } = queue.send('as sent');
    writeFileSync(bodyFile(queue, MessageId), 'as on disk');

    // Act
    const [received] = queue.receive();

    // Assess
    expect(received?.body).toBe('as on disk');
    expect(queue.peek().map((m) => m.body)).toEqual(['as on disk']);
    expect(readLocalQueueMessages(stateDir, 'work').map((m) => m.body)).toEqual(['as on disk']);
  });

  it('reads only the bodies peek(max) returns, and scan() one body at a time', () => {
    // Prepare: three messages; the third one's body file is gone, so reading it would throw.
    const queue = new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0, visibilityTimeoutSeconds: 0 });
    const ids = ['a', 'b', 'c'].map((body) => queue.send(body).MessageId);
    rmSync(bodyFile(queue, ids[2] as string));

    // Act
    const firstTwo = queue.peek(2).map((m) => m.body);
    const scanned: string[] = [];
    for (const message of queue.scan()) {
      scanned.push(message.body);
      if (scanned.length === 2) break;
    }

    // Assess
    expect(firstTwo).toEqual(['a', 'b']);
    expect(scanned).toEqual(['a', 'b']);
    expect(() => queue.peek()).toThrow();
    expect(queue.size).toBe(3);
  });

  it('loses nothing and keeps no orphan after a crash between a body write and its log line, or a log line and an unlink', () => {
    // Prepare: a torn send (body file written, log line not) and a delete whose unlink never ran.
    const queue = new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0 });
    const kept = queue.send(marker('kept'));
    const deleted = queue.send(marker('deleted'));
    const copy = path.join(stateDir, 'deleted-body');
    copyFileSync(bodyFile(queue, deleted.MessageId), copy);
    const received = queue.receive({ maxMessages: 2 });
    queue.deleteMessage(received[1]?.receiptHandle ?? '');
    copyFileSync(copy, bodyFile(queue, deleted.MessageId));
    const torn = '0f0e0d0c-0b0a-4908-8706-050403020100';
    writeFileSync(bodyFile(queue, torn), marker('torn'));
    appendFileSync(queue.logPath ?? '', `{"put":{"messageId":"${torn}","messageAttri`);

    // Act
    const reopened = new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0 });

    // Assess
    expect(reopened.peek().map((m) => [m.messageId, m.body])).toEqual([[kept.MessageId, marker('kept')]]);
    expect(readdirSync(reopened.bodiesDir ?? '')).toEqual([kept.MessageId]);
  });

  it('copies the body of a redriven message to the DLQ before removing it from the source', () => {
    // Prepare
    const { queue, deadLetterQueue } = queuePair(1, 0);
    const { MessageId } = queue.send(marker('poison'));
    queue.receive();
    clock.advance(1_000);

    // Act
    queue.receive();

    // Assess
    expect(readdirSync(queue.bodiesDir ?? '')).toEqual([]);
    expect(readFileSync(bodyFile(deadLetterQueue, MessageId), 'utf8')).toBe(marker('poison'));
    expect(queueFiles(deadLetterQueue)).not.toContain('poison-');
    expect(deadLetterQueue.peek().map((m) => m.body)).toEqual([marker('poison')]);
  });

  it('migrates version 2 files: bodies move to their files, the new snapshot and log hold none', () => {
    // Prepare: a v2 snapshot (generation 4) and the log that continues it, bodies inline.
    const dir = path.join(stateDir, 'queues');
    mkdirSync(dir, { recursive: true });
    const snapshot = { format: 'covid-etl-local-queue', version: 2, name: 'work', generation: 4 };
    writeFileSync(
      path.join(dir, 'work.json'),
      JSON.stringify({ ...snapshot, messages: [fileMessage('m-1', marker('one'))] }),
    );
    writeFileSync(
      path.join(dir, 'work.log'),
      `${JSON.stringify({ format: 'covid-etl-local-queue', generation: 4 })}\n${JSON.stringify({ put: fileMessage('m-2', marker('two')) })}\n`,
    );
    const readBefore = readLocalQueueMessages(stateDir, 'work').map((m) => m.body);

    // Act
    const queue = new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0 });

    // Assess
    expect(readBefore).toEqual([marker('one'), marker('two')]);
    expect(queue.peek().map((m) => m.body)).toEqual([marker('one'), marker('two')]);
    expect(JSON.parse(readFileSync(queue.statePath ?? '', 'utf8')).version).toBe(3);
    expect(queueFiles(queue)).not.toContain('"body"');
    expect(readdirSync(queue.bodiesDir ?? '').sort()).toEqual(['m-1', 'm-2']);
    expect(readLocalQueueMessages(stateDir, 'work').map((m) => m.body)).toEqual([marker('one'), marker('two')]);
  });

  it('refuses to load a queue whose message has lost its body file, naming the file in one line', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0 });
    queue.send('kept');
    const { MessageId } = queue.send('lost');
    rmSync(bodyFile(queue, MessageId));
    const stateBefore = queueFiles(queue);

    // Act
    const reopen = () => new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0 });
    const read = () => readLocalQueueMessages(stateDir, 'work');

    // Assess
    const expected = `Queue work: the body of message ${MessageId} is missing (${bodyFile(queue, MessageId)})`;
    expect(reopen).toThrow(QueueStateError);
    expect(reopen).toThrow(expected);
    expect(read).toThrow(expected);
    const message = (() => {
      try {
        reopen();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message.split('\n')).toHaveLength(1);
    expect(queueFiles(queue)).toBe(stateBefore);
  });
});

describe('LocalQueue: small bodies inline (in memory and in the log, at most 1 MiB per queue)', () => {
  const bodyFiles = (queue: LocalQueue) => {
    try {
      return readdirSync(queue.bodiesDir ?? '').sort();
    } catch {
      return [];
    }
  };

  it('keeps a body up to inlineBodyMax in the log, not in a file, through receive, reopen and delete', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'work', stateDir, clock, visibilityTimeoutSeconds: 0, inlineBodyMax: 100 });
    const small = queue.send('s'.repeat(100));
    const large = queue.send('L'.repeat(101));

    // Act
    const filesAfterSend = bodyFiles(queue);
    const received = queue.receive({ maxMessages: 2 });
    const reopened = new LocalQueue({ name: 'work', stateDir, clock, visibilityTimeoutSeconds: 0, inlineBodyMax: 100 });
    const afterReopen = reopened.peek().map((m) => [m.messageId, m.body.length, m.approximateReceiveCount]);
    const smallHandle = reopened.receive({ maxMessages: 2 }).find((m) => m.messageId === small.MessageId);
    reopened.deleteMessage(smallHandle?.receiptHandle ?? '');

    // Assess
    expect(received.map((m) => m.body.length)).toEqual([100, 101]);
    expect(filesAfterSend).toEqual([large.MessageId]);
    expect(afterReopen).toEqual([
      [small.MessageId, 100, 1],
      [large.MessageId, 101, 1],
    ]);
    expect(new LocalQueue({ name: 'work', stateDir, clock }).peek().map((m) => m.messageId)).toEqual([large.MessageId]);
    expect(readLocalQueueMessages(stateDir, 'work').map((m) => m.body.length)).toEqual([101]);
  });

  it('puts bodies in files once the inline ones reach 1 MiB, and inlines again when some leave', () => {
    // Prepare: 64 bodies of 16 KiB fill the budget exactly.
    const queue = new LocalQueue({ name: 'work', stateDir, clock, visibilityTimeoutSeconds: 0 });
    const body = (n: number) => `${String(n).padStart(4, '0')}${'x'.repeat(16 * 1024 - 4)}`;
    const ids = Array.from({ length: 66 }, (_, n) => queue.send(body(n)).MessageId);

    // Act: remove two inline messages, then send two more.
    for (const message of queue.receive({ maxMessages: 2 })) queue.deleteMessage(message.receiptHandle);
    const later = [queue.send(body(66)).MessageId, queue.send(body(67)).MessageId];
    const reopened = new LocalQueue({ name: 'work', stateDir, clock });

    // Assess
    expect(bodyFiles(queue)).toEqual(ids.slice(64).sort());
    expect(reopened.peek().map((m) => m.body.slice(0, 4))).toEqual(
      Array.from({ length: 66 }, (_, n) => String(n + 2).padStart(4, '0')),
    );
    expect(reopened.size).toBe(66);
    expect(later).toHaveLength(2);
    expect(bodyFiles(reopened)).toEqual(ids.slice(64).sort());
  });

  it('redrives an inline body to the DLQ inline, and moves it back on a replay', () => {
    // Prepare
    const { queue, deadLetterQueue } = queuePair(1);
    const { MessageId } = queue.send('poison');
    queue.receive();
    clock.advance(1_000);

    // Act
    queue.receive();
    const parked = new LocalQueue({ name: 'work-dlq', stateDir, clock }).peek().map((m) => m.body);
    deadLetterQueue.moveMessagesTo(queue);

    // Assess
    expect(parked).toEqual(['poison']);
    expect(bodyFiles(deadLetterQueue)).toEqual([]);
    expect(deadLetterQueue.size).toBe(0);
    expect(queue.peek().map((m) => [m.body, m.messageId === MessageId])).toEqual([['poison', false]]);
    expect(bodyFiles(queue)).toEqual([]);
  });

  it('moves inline bodies to files when opened with a smaller inlineBodyMax, and loads them back', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'work', stateDir, clock });
    const { MessageId } = queue.send('kept inline first');

    // Act
    const reopened = new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: 0 });
    const files = bodyFiles(reopened);
    const log = `${readFileSync(reopened.statePath ?? '', 'utf8')}${readFileSync(reopened.logPath ?? '', 'utf8')}`;

    // Assess
    expect(files).toEqual([MessageId]);
    expect(log).not.toContain('kept inline first');
    expect(new LocalQueue({ name: 'work', stateDir, clock }).peek().map((m) => m.body)).toEqual(['kept inline first']);
  });

  it('refuses an inlineBodyMax that is not a whole number', () => {
    expect(() => new LocalQueue({ name: 'work', stateDir, clock, inlineBodyMax: -1 })).toThrow(/inlineBodyMax/);
  });
});
describe('LocalQueue: moving messages (StartMessageMoveTask)', () => {
  it('moves DLQ messages back as new messages: new ids, new sent time, receive count 0', () => {
    // Prepare
    const { queue, deadLetterQueue } = queuePair(1);
    const { MessageId } = queue.send('retry me');
    queue.receive();
    clock.advance(900);
    queue.receive(); // moves it to the DLQ
    clock.advance(5_000);

    // Act
    const { moved } = deadLetterQueue.moveMessagesTo(queue);

    // Assess
    expect(moved).toBe(1);
    expect(deadLetterQueue.size).toBe(0);
    const [redriven] = queue.peek();
    expect(redriven?.body).toBe('retry me');
    expect(redriven?.messageId).not.toBe(MessageId);
    expect(redriven?.approximateReceiveCount).toBe(0);
    expect(redriven?.sentTimestamp).toBe(clock.now().getTime());
  });
});

describe('LocalQueue: SQS request validation', () => {
  it('refuses a message over 256 KiB and accepts one at the limit', () => {
    // Prepare
    const { queue } = queuePair();

    // Act
    const tooLong = () => queue.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    const atLimit = queue.send('x'.repeat(MAX_MESSAGE_BYTES));

    // Assess
    expect(tooLong).toThrow(/shorter than 262144 bytes/);
    expect(atLimit.MessageId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('validates SendMessageBatch like SQS', () => {
    // Prepare
    const { queue } = queuePair();
    const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${i}` }));

    // Act
    const result = queue.sendBatch([
      { Id: 'ok', MessageBody: 'fine' },
      { Id: 'bad', MessageBody: 'nul \u0000 inside' },
      { Id: 'empty', MessageBody: '' },
    ]);

    // Assess
    expect(result.Successful.map((s) => s.Id)).toEqual(['ok']);
    expect(result.Failed.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['bad', 'InvalidMessageContents', true],
      ['empty', 'MissingParameter', true],
    ]);
    expect(() => queue.sendBatch([])).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.EmptyBatchRequest' }),
    );
    expect(() => queue.sendBatch(entries(11))).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest' }),
    );
    expect(() => queue.sendBatch([...entries(1), ...entries(1)])).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct' }),
    );
    expect(() => queue.sendBatch([{ Id: 'no spaces', MessageBody: 'x' }])).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.InvalidBatchEntryId' }),
    );
    expect(() =>
      queue.sendBatch([
        { Id: 'a', MessageBody: 'x'.repeat(200_000) },
        { Id: 'b', MessageBody: 'x'.repeat(100_000) },
      ]),
    ).toThrow(expect.objectContaining({ code: 'AWS.SimpleQueueService.BatchRequestTooLong' }));
    expect(queue.size).toBe(1);
    expect(() => queue.receive({ maxMessages: 11 })).toThrow(QueueRequestError);
  });

  it('reports age of the oldest message and purges', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    clock.advance(1_500);
    queue.send('b');

    // Act
    const age = queue.ageOfOldestMessageMs;
    const purged = queue.purge();

    // Assess
    expect(age).toBe(1_500);
    expect(purged).toBe(2);
    expect(queue.ageOfOldestMessageMs).toBe(0);
    expect(new LocalQueue({ name: 'work', stateDir }).size).toBe(0);
  });

  it('drops messages past the retention period (not scaled)', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'short', clock, messageRetentionSeconds: 60, timeScale: 0.001 });
    queue.send('old');

    // Act
    clock.advance(59_999);
    const beforeExpiry = queue.peek().length;
    clock.advance(1);
    const afterExpiry = queue.peek().length;

    // Assess
    expect(beforeExpiry).toBe(1);
    expect(afterExpiry).toBe(0);
  });
});
