import { createHash, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { MAX_MESSAGE_BYTES, type QueueSettings } from '@covid-etl/contracts';
import { type Clock, systemClock } from './clock.js';
import { QueueRequestError, QueueStateError } from './errors.js';

/** Region name used in the ARNs of local resources. */
export const LOCAL_REGION = 'local';
/** Account id used in the ARNs of local resources. */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** SendMessageBatch / ReceiveMessage limit. */
export const MAX_BATCH_ENTRIES = 10;
/** SQS's largest visibility timeout (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** SQS's default message retention (4 days). */
export const DEFAULT_MESSAGE_RETENTION_SECONDS = 345_600;

const STATE_FORMAT = 'covid-etl-local-queue';
/**
 * v3: message bodies are files in `<name>.bodies/`, the snapshot and log hold metadata only.
 * v2: the snapshot has a `generation`, and `<name>.log` holds the changes since. v1 and v2 files
 * (bodies inline) are read and migrated when the queue is opened.
 */
const STATE_VERSION = 3;
/** The change log is folded into a new snapshot once it is larger than this and the snapshot. */
const COMPACT_MIN_LOG_BYTES = 256 * 1024;
/**
 * Opening a queue folds a log longer than this (a run leaves up to `COMPACT_MIN_LOG_BYTES` of
 * changes to messages long gone in its queues' logs: every later open would read them again),
 * and continues a shorter one (folding it would rewrite both files at every open).
 */
const OPEN_FOLD_LOG_BYTES = 16 * 1024;
/**
 * A persisted queue keeps a body up to this size (UTF-16 code units) inline, in memory and in its
 * log line, instead of in a file of its own (creating a file costs ~0.3 ms here: 80 of them were
 * ~7% of a national run), as long as its inline bodies stay within `INLINE_BODIES_BUDGET`.
 */
export const DEFAULT_INLINE_BODY_MAX = 16 * 1024;
/** The most body text a persisted queue keeps inline (memory stays bounded whatever the queue's length). */
const INLINE_BODIES_BUDGET = 1024 * 1024;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** Message ids are UUIDs; anything else in a state file must not become a file name. */
const MESSAGE_ID = /^[A-Za-z0-9-]{1,100}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
// The characters SQS accepts in a message: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
const INVALID_BODY_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** A message attribute as SQS's API has it; `BinaryValue` is base64 (kept as text on disk). */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}
export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** A message as the queue holds it. Times are epoch milliseconds of the queue's clock. */
export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: MessageAttributes;
  readonly md5OfBody: string;
  /** When the message was first sent (kept when it moves to a DLQ, as SQS standard queues do). */
  readonly sentTimestamp: number;
  /** When the message arrived in this queue (differs from `sentTimestamp` in a DLQ). */
  readonly enqueuedTimestamp: number;
  readonly approximateReceiveCount: number;
  readonly approximateFirstReceiveTimestamp: number | null;
  /** The receipt handle of the latest receive; `null` before the first one. */
  readonly receiptHandle: string | null;
  /** The message can be received from this time on. */
  readonly visibleAt: number;
  /** ARN of the queue the message was moved from by redrive, when it is in a DLQ. */
  readonly deadLetterQueueSourceArn?: string;
}

/** A received message: it always has its (new) receipt handle. */
export interface ReceivedMessage extends QueueMessage {
  readonly receiptHandle: string;
}

/** Where messages go after `maxReceiveCount` receives (SQS `RedrivePolicy`). */
export interface RedrivePolicy {
  readonly deadLetterQueue: LocalQueue;
  /** 1 to 1000; the message is moved on the receive that would exceed this count. */
  readonly maxReceiveCount: number;
}

export interface LocalQueueOptions {
  /** The queue name (1 to 80 of `A-Za-z0-9_-`); also the state file name. */
  readonly name: string;
  /**
   * When given, the queue lives in `<stateDir>/queues/<name>.json` and `<name>.log` (metadata,
   * and the small bodies: see `inlineBodyMax`) and `<name>.bodies/<messageId>` (one file per
   * other body); in memory otherwise.
   */
  readonly stateDir?: string;
  /**
   * A persisted queue keeps a body of up to this many characters inline (in memory and in its
   * snapshot and log lines) while its inline bodies total at most 1 MiB; larger bodies, and
   * those beyond the budget, get their own file. Default `DEFAULT_INLINE_BODY_MAX` (16 KiB);
   * 0: every body in a file.
   */
  readonly inlineBodyMax?: number;
  /** Default visibility timeout in AWS seconds (before scaling), 0 to 43200; default 30. */
  readonly visibilityTimeoutSeconds?: number;
  /** Retention in AWS seconds; NOT scaled, so DLQ messages survive between commands. Default 4 days. */
  readonly messageRetentionSeconds?: number;
  /** Factor applied to visibility timeouts (e.g. 0.005 turns 180 s into 0.9 s). Default 1. */
  readonly timeScale?: number;
  readonly clock?: Clock;
  readonly redrive?: RedrivePolicy;
}

export interface ReceiveOptions {
  /** 1 to 10, default 1. */
  readonly maxMessages?: number;
  /** Overrides the queue's visibility timeout for this receive, in AWS seconds (scaled). */
  readonly visibilityTimeoutSeconds?: number;
}

export interface SendMessageResult {
  readonly MessageId: string;
  readonly MD5OfMessageBody: string;
}

export interface SendMessageBatchEntry {
  readonly Id: string;
  readonly MessageBody: string;
  readonly MessageAttributes?: MessageAttributes;
}

export interface SendMessageBatchResult {
  readonly Successful: ReadonlyArray<{
    readonly Id: string;
    readonly MessageId: string;
    readonly MD5OfMessageBody: string;
  }>;
  readonly Failed: ReadonlyArray<{
    readonly Id: string;
    readonly Code: string;
    readonly Message: string;
    readonly SenderFault: boolean;
  }>;
}

/** What this queue object did since it was created (not persisted): for benchmarks and progress. */
export interface QueueStats {
  sent: number;
  received: number;
  deleted: number;
  movedToDeadLetterQueue: number;
  movedOut: number;
}

type MutableMessage = { -readonly [K in keyof QueueMessage]: QueueMessage[K] };
/**
 * A message as the queue holds it in memory and in its snapshot and log: a persisted queue
 * keeps a small body inline and a large one in its own file (`body` absent); an in-memory
 * queue has every body inline.
 */
type StoredMessage = Omit<MutableMessage, 'body'> & { body?: string };

interface StateFile {
  format: typeof STATE_FORMAT;
  version: 1 | 2 | typeof STATE_VERSION;
  name: string;
  /** The change log whose first line names this generation continues this snapshot. */
  generation?: number;
  messages: StoredMessage[];
}

/** One line of the change log: a message's whole new state (its body too when inline), or its removal. */
type LogEntry = { put: StoredMessage } | { del: string };

/**
 * An SQS standard queue in this process, optionally persisted to disk.
 *
 * Guarantees: every mutation is on disk before the call returns, at a cost that does not
 * grow with the queue: each call appends the messages it changed (their whole new state, a
 * file-backed body excepted, or their removal) as JSON lines to `<stateDir>/queues/<name>.log`.
 * The log is folded into the snapshot `<name>.json` whenever it outgrows both 256 KiB and the
 * snapshot (amortized: O(1) rewrites per queue length of changes), and at construction only when
 * it is over 16 KiB or cannot be continued (a torn last line, a log of another generation, an
 * older format, inline bodies to move to files): opening a queue writes nothing otherwise. Snapshot and log are
 * each replaced by temp file + rename, and the log's first line names the snapshot generation
 * it continues, so a crash at any point leaves a state that loads: a torn last log line (a crash
 * mid-append) is dropped, as its call never returned.
 * Bodies: a persisted queue keeps a small body inline (in memory and in the message's log
 * lines, at most 1 MiB of them per queue, `inlineBodyMax`) and every other body in
 * `<name>.bodies/<messageId>`, written once, before the log line that adds the message, and
 * removed after the line that removes it; in memory it holds metadata and at most that budget
 * of bodies, whatever the body sizes. Receive, visibility changes, hold/release and delete
 * write no body file; receive, peek and moves read them. At load, body files no state
 * references (a send or a removal torn by a crash) are removed, and a referenced body that is
 * missing is a `QueueStateError` naming the file. One process at a time may use a state
 * directory. Visibility timeouts are multiplied by `timeScale`; retention is not.
 * Differences from SQS: delivery order is the send order, and a receive returns as many
 * visible messages as asked for (SQS may return fewer).
 */
export class LocalQueue {
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly timeScale: number;
  readonly visibilityTimeoutSeconds: number;
  readonly messageRetentionSeconds: number;
  readonly redrive: RedrivePolicy | undefined;
  readonly clock: Clock;
  /** The snapshot file, or `undefined` for an in-memory queue. */
  readonly statePath: string | undefined;
  /** The change log that continues the snapshot, or `undefined` for an in-memory queue. */
  readonly logPath: string | undefined;
  /** The folder of the message bodies (one file per message id), or `undefined` for an in-memory queue. */
  readonly bodiesDir: string | undefined;
  readonly stats: QueueStats = { sent: 0, received: 0, deleted: 0, movedToDeadLetterQueue: 0, movedOut: 0 };

  #messages: StoredMessage[] = [];
  /** Changes not yet on disk: messages to write whole (by reference) or ids removed. */
  #changes: LogEntry[] = [];
  /** Ids of removed messages whose body files go once their removal is on disk. */
  #bodiesToRemove: string[] = [];
  #bodiesDirMade = false;
  #stateDirMade = false;
  readonly #inlineBodyMax: number;
  /** Characters of body held inline by this persisted queue (at most `INLINE_BODIES_BUDGET`). */
  #inlineBytes = 0;
  /** The next write folds everything into a new snapshot (a purge, or no log yet). */
  #compactNext = true;
  #generation = 0;
  #logBytes = 0;
  #snapshotBytes = 0;
  /** Receipt handles of messages whose invocation is running (see `hold`). */
  readonly #held = new Set<string>();
  readonly #listeners = new Set<() => void>();

  constructor(options: LocalQueueOptions) {
    if (!QUEUE_NAME.test(options.name)) {
      throw new QueueRequestError(
        'InvalidParameterValue',
        `Queue name "${options.name}" is not valid: use 1 to 80 letters, digits, hyphens or underscores`,
      );
    }
    this.name = options.name;
    this.arn = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${options.name}`;
    this.url = `http://sqs.${LOCAL_REGION}.localhost/${LOCAL_ACCOUNT_ID}/${options.name}`;
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale > 0 && Number.isFinite(this.timeScale))) {
      throw new RangeError(`timeScale must be a positive number, got ${options.timeScale}`);
    }
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
    assertVisibilityTimeout(this.visibilityTimeoutSeconds);
    this.messageRetentionSeconds = options.messageRetentionSeconds ?? DEFAULT_MESSAGE_RETENTION_SECONDS;
    this.clock = options.clock ?? systemClock;
    if (options.redrive) {
      const { deadLetterQueue, maxReceiveCount } = options.redrive;
      if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
        throw new QueueRequestError(
          'InvalidParameterValue',
          `maxReceiveCount must be 1 to 1000, got ${maxReceiveCount}`,
        );
      }
      if (deadLetterQueue.name === this.name) {
        throw new QueueRequestError('InvalidParameterValue', `Queue ${this.name} cannot be its own dead-letter queue`);
      }
    }
    this.redrive = options.redrive;
    this.statePath = options.stateDir ? path.join(options.stateDir, 'queues', `${options.name}.json`) : undefined;
    this.logPath = options.stateDir ? path.join(options.stateDir, 'queues', `${options.name}.log`) : undefined;
    this.bodiesDir = options.stateDir ? path.join(options.stateDir, 'queues', `${options.name}.bodies`) : undefined;
    this.#inlineBodyMax = options.inlineBodyMax ?? DEFAULT_INLINE_BODY_MAX;
    if (!(Number.isInteger(this.#inlineBodyMax) && this.#inlineBodyMax >= 0)) {
      throw new RangeError(`inlineBodyMax must be a whole number of characters, got ${options.inlineBodyMax}`);
    }
    this.#load();
  }

  /** Converts a duration in AWS seconds to local milliseconds with `timeScale`. */
  scaledMs(seconds: number): number {
    return seconds * 1000 * this.timeScale;
  }

  /** Sends one message (SendMessage). Throws `QueueRequestError` for a message SQS would refuse. */
  send(body: string, attributes: MessageAttributes = {}): SendMessageResult {
    const problem = validateMessage(body, attributes);
    if (problem) throw new QueueRequestError(problem.code, problem.message);
    const message = this.#append(body, attributes);
    this.#persist();
    this.#notify();
    return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody };
  }

  /**
   * Sends up to 10 messages (SendMessageBatch). Request errors (no entry, more than 10,
   * duplicate or invalid ids, over 256 KiB in total) throw `QueueRequestError`; an entry
   * SQS would refuse on its own appears in `Failed` while the others are sent.
   */
  sendBatch(entries: readonly SendMessageBatchEntry[]): SendMessageBatchResult {
    if (entries.length === 0) {
      throw new QueueRequestError(
        'AWS.SimpleQueueService.EmptyBatchRequest',
        'There should be at least one entry in the request',
      );
    }
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw new QueueRequestError(
        'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
        `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
      );
    }
    const ids = new Set<string>();
    let totalBytes = 0;
    for (const entry of entries) {
      if (!BATCH_ENTRY_ID.test(entry.Id)) {
        throw new QueueRequestError(
          'AWS.SimpleQueueService.InvalidBatchEntryId',
          `A batch entry id can only contain alphanumeric characters, hyphens and underscores (1 to 80): "${entry.Id}"`,
        );
      }
      if (ids.has(entry.Id)) {
        throw new QueueRequestError('AWS.SimpleQueueService.BatchEntryIdsNotDistinct', `Id ${entry.Id} repeated.`);
      }
      ids.add(entry.Id);
      totalBytes += messageBytes(entry.MessageBody ?? '', entry.MessageAttributes ?? {});
    }
    if (totalBytes > MAX_MESSAGE_BYTES) {
      throw new QueueRequestError(
        'AWS.SimpleQueueService.BatchRequestTooLong',
        `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${totalBytes} bytes.`,
      );
    }
    const successful: Array<{ Id: string; MessageId: string; MD5OfMessageBody: string }> = [];
    const failed: Array<{ Id: string; Code: string; Message: string; SenderFault: boolean }> = [];
    for (const entry of entries) {
      const attributes = entry.MessageAttributes ?? {};
      const problem = validateMessage(entry.MessageBody, attributes);
      if (problem) {
        failed.push({ Id: entry.Id, Code: problem.code, Message: problem.message, SenderFault: true });
        continue;
      }
      const message = this.#append(entry.MessageBody, attributes);
      successful.push({ Id: entry.Id, MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody });
    }
    if (successful.length > 0) {
      this.#persist();
      this.#notify();
    }
    return { Successful: successful, Failed: failed };
  }

  /**
   * Receives up to `maxMessages` visible messages (ReceiveMessage): each gets a new receipt
   * handle, its receive count goes up by one and it stays invisible for the (scaled)
   * visibility timeout. With a redrive policy, a message whose receive count would exceed
   * `maxReceiveCount` is moved to the DLQ instead of being returned, as SQS does.
   */
  receive(options: ReceiveOptions = {}): ReceivedMessage[] {
    const maxMessages = options.maxMessages ?? 1;
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > MAX_BATCH_ENTRIES) {
      throw new QueueRequestError(
        'ReadCountOutOfRange',
        `Value ${maxMessages} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.`,
      );
    }
    const visibilitySeconds = options.visibilityTimeoutSeconds ?? this.visibilityTimeoutSeconds;
    assertVisibilityTimeout(visibilitySeconds);
    let changed = this.#expire();
    const now = this.clock.now().getTime();
    const received: StoredMessage[] = [];
    const toDeadLetter: StoredMessage[] = [];
    for (const message of this.#messages) {
      if (received.length >= maxMessages) break;
      if (!this.#isVisible(message, now)) continue;
      if (this.redrive && message.approximateReceiveCount >= this.redrive.maxReceiveCount) {
        toDeadLetter.push(message);
        continue;
      }
      message.approximateReceiveCount += 1;
      message.approximateFirstReceiveTimestamp ??= now;
      message.receiptHandle = newReceiptHandle();
      message.visibleAt = now + this.scaledMs(visibilitySeconds);
      received.push(message);
      this.#changes.push({ put: message });
      changed = true;
    }
    if (toDeadLetter.length > 0 && this.redrive) {
      // The DLQ is written first: a crash in between duplicates a message rather than losing it.
      this.redrive.deadLetterQueue.#acceptDeadLetters(toDeadLetter, this);
      this.#remove(toDeadLetter);
      this.stats.movedToDeadLetterQueue += toDeadLetter.length;
      changed = true;
    }
    this.stats.received += received.length;
    if (changed) this.#persist();
    // Bodies are read once the receive is on disk (they are not part of what it changed).
    return received.map((message) => ({ ...this.#withBody(message), receiptHandle: message.receiptHandle as string }));
  }

  /**
   * Deletes the message whose latest receipt handle is `receiptHandle` (DeleteMessage).
   * Returns whether a message was deleted; an unknown or outdated handle deletes nothing.
   */
  deleteMessage(receiptHandle: string): boolean {
    const index = this.#messages.findIndex((m) => m.receiptHandle === receiptHandle);
    if (index < 0) return false;
    const [deleted] = this.#messages.splice(index, 1);
    if (deleted) {
      this.#changes.push({ del: deleted.messageId });
      this.#dropBody(deleted);
    }
    this.#held.delete(receiptHandle);
    this.stats.deleted += 1;
    this.#persist();
    return true;
  }

  /**
   * Sets the visibility timeout (AWS seconds, scaled) of an in-flight message from now on
   * (ChangeMessageVisibility). Returns `false` when the handle is not the latest one or the
   * message is no longer in flight.
   */
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): boolean {
    assertVisibilityTimeout(visibilityTimeoutSeconds);
    const now = this.clock.now().getTime();
    const message = this.#messages.find((m) => m.receiptHandle === receiptHandle);
    if (!message || this.#isVisible(message, now)) return false;
    message.visibleAt = now + this.scaledMs(visibilityTimeoutSeconds);
    this.#changes.push({ put: message });
    this.#persist();
    if (visibilityTimeoutSeconds === 0) this.#notify();
    return true;
  }

  /**
   * Keeps a received message invisible, whatever its visibility timeout, until `release`
   * (in memory only: the persisted visibility timeout still applies if the process dies).
   * The event source mapping holds each batch while its handler runs: in AWS the visibility
   * timeout is at least 6x the function timeout, so a message is never redelivered during its
   * own invocation, and scaling the timeout down must not change that.
   * Returns `false` when the handle is not the message's latest one.
   */
  hold(receiptHandle: string): boolean {
    if (!this.#messages.some((m) => m.receiptHandle === receiptHandle)) return false;
    this.#held.add(receiptHandle);
    return true;
  }

  /**
   * Ends a `hold`. The message becomes visible when its visibility timeout expires; if that
   * time has already passed during the hold, the (scaled) timeout starts again now.
   */
  release(receiptHandle: string, visibilityTimeoutSeconds = this.visibilityTimeoutSeconds): void {
    if (!this.#held.delete(receiptHandle)) return;
    const message = this.#messages.find((m) => m.receiptHandle === receiptHandle);
    const now = this.clock.now().getTime();
    if (!message || message.visibleAt > now) return;
    message.visibleAt = now + this.scaledMs(visibilityTimeoutSeconds);
    this.#changes.push({ put: message });
    this.#persist();
  }

  /**
   * The first `max` messages (default all) with their state, without receiving anything. Each
   * body is read from disk: pass `max`, or use `scan()` or `size`, on a long queue.
   */
  peek(max = Number.POSITIVE_INFINITY): QueueMessage[] {
    if (this.#expire()) this.#persist();
    return this.#messages.slice(0, max).map((m) => this.#withBody(m));
  }

  /** Every message with its state, one body read at a time (a long queue's bodies are never all held). */
  *scan(): Generator<QueueMessage> {
    if (this.#expire()) this.#persist();
    for (const m of [...this.#messages]) yield this.#withBody(m);
  }

  /** Messages available for retrieval (ApproximateNumberOfMessages). */
  get approximateNumberOfMessages(): number {
    return this.counts().visible;
  }

  /** Messages received and neither deleted nor visible again (ApproximateNumberOfMessagesNotVisible). */
  get approximateNumberOfMessagesNotVisible(): number {
    return this.counts().notVisible;
  }

  /**
   * Both counts at one instant: they add up to `size`. Read the two getters one after the other
   * and a message whose visibility timeout runs out in between is counted in neither.
   */
  counts(): { visible: number; notVisible: number } {
    const now = this.clock.now().getTime();
    let visible = 0;
    for (const m of this.#messages) if (this.#isVisible(m, now)) visible += 1;
    return { visible, notVisible: this.#messages.length - visible };
  }

  /** All messages, visible or not. */
  get size(): number {
    return this.#messages.length;
  }

  /** Age of the oldest message in this queue, counted from its arrival here (0 when empty). */
  get ageOfOldestMessageMs(): number {
    if (this.#messages.length === 0) return 0;
    const oldest = Math.min(...this.#messages.map((m) => m.enqueuedTimestamp));
    return Math.max(0, this.clock.now().getTime() - oldest);
  }

  /** Milliseconds until the next in-flight message becomes visible; `undefined` when none is in flight. */
  nextVisibleInMs(): number | undefined {
    const now = this.clock.now().getTime();
    let next: number | undefined;
    for (const m of this.#messages) {
      if (this.#isHeld(m)) continue;
      if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
    }
    return next === undefined ? undefined : next - now;
  }

  /** Deletes every message (PurgeQueue). Returns how many were deleted. */
  purge(): number {
    const count = this.#messages.length;
    for (const m of this.#messages) this.#dropBody(m);
    this.#messages = [];
    this.#held.clear();
    this.#compactNext = true;
    this.#persist();
    return count;
  }

  /**
   * Moves every visible message to `target` (StartMessageMoveTask, run to completion): each
   * arrives as a NEW message, with a new message id, a new sent timestamp and a receive count
   * of 0. Returns how many messages moved. In-flight messages stay.
   */
  moveMessagesTo(target: LocalQueue): { moved: number } {
    if (target === this || target.name === this.name) {
      throw new QueueRequestError('InvalidParameterValue', `Cannot move messages of ${this.name} to itself`);
    }
    if (this.#expire()) this.#persist();
    const now = this.clock.now().getTime();
    const moving = this.#messages.filter((m) => this.#isVisible(m, now));
    if (moving.length === 0) return { moved: 0 };
    // One body at a time: read from this queue, written to the target's (before its log line).
    for (const m of moving) target.#append(this.#bodyOf(m), m.messageAttributes);
    target.#persist();
    this.#remove(moving);
    this.stats.movedOut += moving.length;
    this.#persist();
    target.#notify();
    return { moved: moving.length };
  }

  /**
   * Calls `listener` whenever a message may have become receivable (a send, a message moved in,
   * a visibility set to 0). Timeouts expiring are not signalled: use `nextVisibleInMs()`.
   * Returns the function that removes the listener.
   */
  onAvailable(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #append(body: string, attributes: MessageAttributes): StoredMessage {
    const now = this.clock.now().getTime();
    const messageId = randomUUID();
    // A body file is written before any log line names the message (see #persist).
    const inline = this.#keepInline(body);
    if (!inline) this.#writeBody(messageId, body);
    const message: StoredMessage = {
      messageId,
      ...(inline ? { body } : {}),
      messageAttributes: structuredClone(attributes),
      md5OfBody: md5(body),
      sentTimestamp: now,
      enqueuedTimestamp: now,
      approximateReceiveCount: 0,
      approximateFirstReceiveTimestamp: null,
      receiptHandle: null,
      visibleAt: now,
    };
    this.#messages.push(message);
    this.#changes.push({ put: message });
    this.stats.sent += 1;
    return message;
  }

  /** Removes these messages (by identity) and records their removal. */
  #remove(messages: readonly StoredMessage[]): void {
    const removed = new Set(messages);
    this.#messages = this.#messages.filter((m) => !removed.has(m));
    for (const m of messages) {
      this.#changes.push({ del: m.messageId });
      this.#dropBody(m);
    }
  }

  /**
   * Whether a body being added stays inline (counted against the budget) rather than in a file:
   * always for an in-memory queue.
   */
  #keepInline(body: string): boolean {
    if (!this.bodiesDir) return true;
    if (body.length > this.#inlineBodyMax || this.#inlineBytes + body.length > INLINE_BODIES_BUDGET) return false;
    this.#inlineBytes += body.length;
    return true;
  }

  /** A removed message's body: its inline share of the budget back, or its file removed after the log line. */
  #dropBody(message: StoredMessage): void {
    if (!this.bodiesDir) return;
    if (message.body !== undefined) this.#inlineBytes -= message.body.length;
    else this.#bodiesToRemove.push(message.messageId);
  }

  /** The message's body: inline in memory, or read from its file. */
  #bodyOf(message: StoredMessage): string {
    if (message.body !== undefined || !this.bodiesDir) return message.body ?? '';
    return readBody(this.name, this.bodiesDir, message.messageId);
  }

  /** A copy of the message, with its body. */
  #withBody(message: StoredMessage): MutableMessage {
    return { ...message, body: this.#bodyOf(message) };
  }

  #writeBody(messageId: string, body: string): void {
    const dir = this.bodiesDir as string;
    const file = bodyPath(dir, messageId);
    try {
      if (!this.#bodiesDirMade) mkdirSync(dir, { recursive: true });
      this.#bodiesDirMade = true;
      // Written in place: until the log line that names it is appended, a torn file is an orphan.
      writeFileSync(file, body, 'utf8');
    } catch (error) {
      throw new QueueStateError(file, `Cannot write message body ${file}`, { cause: error });
    }
  }

  #isHeld(message: StoredMessage): boolean {
    return message.receiptHandle !== null && this.#held.has(message.receiptHandle);
  }

  #isVisible(message: StoredMessage, now: number): boolean {
    return message.visibleAt <= now && !this.#isHeld(message);
  }

  #acceptDeadLetters(messages: readonly StoredMessage[], source: LocalQueue): void {
    const now = this.clock.now().getTime();
    const present = new Set(this.#messages.map((m) => m.messageId));
    for (const m of messages) {
      // Already here: a crash between writing the DLQ and the source queue redrove it twice.
      if (present.has(m.messageId)) continue;
      // SQS keeps the message id, body, attributes and (standard queues) the original sent timestamp.
      // The body is copied to this queue's own file, one message at a time, before this queue's log line.
      const body = source.#bodyOf(m);
      const inline = this.#keepInline(body);
      if (!inline) this.#writeBody(m.messageId, body);
      const parked: StoredMessage = {
        ...m,
        enqueuedTimestamp: now,
        receiptHandle: null,
        visibleAt: now,
        deadLetterQueueSourceArn: source.arn,
      };
      if (inline) parked.body = body;
      else delete parked.body;
      this.#messages.push(parked);
      this.#changes.push({ put: parked });
    }
    this.#persist();
    this.#notify();
  }

  /** Drops messages older than the retention period; returns whether any was dropped. */
  #expire(): boolean {
    const cutoff = this.clock.now().getTime() - this.messageRetentionSeconds * 1000;
    const expired = this.#messages.filter((m) => m.sentTimestamp <= cutoff);
    if (expired.length > 0) this.#remove(expired);
    return expired.length > 0;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /**
   * Loads the snapshot and replays the log that continues it, moves inline bodies beyond the
   * budget (a v1/v2 file's, or a larger `inlineBodyMax` before) to their files, folds all into a
   * new snapshot unless the log can simply be continued, then removes body files nothing
   * references.
   */
  #load(): void {
    if (!this.statePath || !this.logPath || !this.bodiesDir) return;
    const loaded = loadQueueState(this.statePath, this.logPath);
    const files = listBodyFiles(this.bodiesDir);
    if (loaded) {
      // Nothing is written before every referenced body is known to be there.
      for (const m of loaded.messages) {
        if (m.body === undefined && !files.has(m.messageId))
          throw missingBodyError(this.name, this.bodiesDir, m.messageId);
      }
      let moved = false;
      for (const m of loaded.messages) {
        if (m.body === undefined || this.#keepInline(m.body)) continue;
        // The old files keep the body until the new snapshot below replaces them.
        this.#writeBody(m.messageId, m.body);
        delete m.body;
        moved = true;
      }
      this.#messages = loaded.messages;
      this.#generation = loaded.generation;
      if (loaded.continuable && !moved) {
        this.#snapshotBytes = loaded.continuable.snapshotBytes;
        this.#logBytes = loaded.continuable.logBytes;
        this.#compactNext = false;
      } else {
        this.#compactNext = true;
        this.#persist();
      }
    }
    // Files of a send whose log line was never written, or of a removal whose unlink never ran.
    const referenced = new Set(this.#messages.map((m) => m.messageId));
    for (const file of files) {
      if (!referenced.has(file)) rmSync(path.join(this.bodiesDir, file), { force: true, recursive: true });
    }
  }

  /**
   * Writes the pending changes (see #writeChanges), then removes the body files of the
   * messages whose removal is now on disk.
   */
  #persist(): void {
    this.#writeChanges();
    const removed = this.#bodiesToRemove;
    this.#bodiesToRemove = [];
    if (!this.bodiesDir) return;
    for (const messageId of removed) {
      try {
        unlinkSync(bodyPath(this.bodiesDir, messageId));
      } catch {
        // Already gone, or left as an orphan that the next load removes.
      }
    }
  }

  /**
   * Writes the pending changes: appended to the log, or, at construction (a log that cannot be
   * continued), after a purge or once the log outgrows the snapshot, folded into a new snapshot
   * that a fresh log then continues.
   */
  #writeChanges(): void {
    const changes = this.#changes;
    this.#changes = [];
    if (!this.statePath || !this.logPath) return;
    if (!this.#stateDirMade) mkdirSync(path.dirname(this.statePath), { recursive: true });
    this.#stateDirMade = true;
    if (!this.#compactNext) {
      const text = changes.map((change) => `${JSON.stringify(change)}\n`).join('');
      if (text === '') return;
      const bytes = Buffer.byteLength(text);
      if (this.#logBytes + bytes <= Math.max(COMPACT_MIN_LOG_BYTES, this.#snapshotBytes)) {
        try {
          appendFileSync(this.logPath, text);
        } catch (error) {
          throw new QueueStateError(this.logPath, `Cannot write queue log ${this.logPath}`, { cause: error });
        }
        this.#logBytes += bytes;
        return;
      }
    }
    // Snapshot first, then the log that continues it: a crash in between leaves the new snapshot
    // and a log of the old generation, which loading ignores.
    const generation = this.#generation + 1;
    const state: Omit<StateFile, 'messages'> = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      name: this.name,
      generation,
    };
    // The same JSON document as JSON.stringify({ ...state, messages }), written a message at a
    // time: one string of a long queue's whole state (hundreds of MB in a county backfill) was
    // the local stack's peak of memory.
    const messages = this.#messages;
    const snapshotBytes = replaceFileWith(this.statePath, (write) => {
      write(`${JSON.stringify(state).slice(0, -1)},"messages":[`);
      messages.forEach((message, index) => {
        write(index === 0 ? JSON.stringify(message) : `,${JSON.stringify(message)}`);
      });
      write(']}');
    });
    const header = `${JSON.stringify({ format: STATE_FORMAT, generation })}\n`;
    replaceFile(this.logPath, header);
    this.#generation = generation;
    this.#snapshotBytes = snapshotBytes;
    this.#logBytes = Buffer.byteLength(header);
    this.#compactNext = false;
  }
}

/**
 * The messages a persisted queue holds, bodies included, read from `<stateDir>/queues/<name>.json`,
 * `.log` and `.bodies/` without writing anything (for tests and tools; a running queue may be
 * appending meanwhile; a message it removes between the two reads is reported as a missing
 * body: read again). An empty list when the queue has no files yet. Throws `QueueStateError`
 * for corrupt files or a missing body.
 */
export function readLocalQueueMessages(stateDir: string, name: string): QueueMessage[] {
  const dir = path.join(stateDir, 'queues');
  const bodiesDir = path.join(dir, `${name}.bodies`);
  const loaded = loadQueueState(path.join(dir, `${name}.json`), path.join(dir, `${name}.log`));
  return (loaded?.messages ?? []).map((m) => ({ ...m, body: m.body ?? readBody(name, bodiesDir, m.messageId) }));
}

/** `<bodiesDir>/<messageId>`; refuses an id that is not a plain name (state files are input). */
function bodyPath(bodiesDir: string, messageId: string): string {
  if (!MESSAGE_ID.test(messageId)) {
    throw new QueueStateError(
      bodiesDir,
      `Queue state names a message id that is not valid: ${JSON.stringify(messageId)}`,
    );
  }
  return path.join(bodiesDir, messageId);
}

function missingBodyError(queue: string, bodiesDir: string, messageId: string): QueueStateError {
  const file = bodyPath(bodiesDir, messageId);
  return new QueueStateError(
    file,
    `Queue ${queue}: the body of message ${messageId} is missing (${file}): restore the file, or delete the queue's files in ${path.dirname(bodiesDir)} (its messages are then lost)`,
  );
}

function readBody(queue: string, bodiesDir: string, messageId: string): string {
  const file = bodyPath(bodiesDir, messageId);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missingBodyError(queue, bodiesDir, messageId);
    throw new QueueStateError(file, `Cannot read message body ${file}`, { cause: error });
  }
}

/** The names in a queue's body folder (empty when it does not exist yet). */
function listBodyFiles(bodiesDir: string): Set<string> {
  try {
    return new Set(readdirSync(bodiesDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw new QueueStateError(bodiesDir, `Cannot read queue bodies folder ${bodiesDir}`, { cause: error });
  }
}

/** The snapshot with the log that continues it replayed, or undefined when neither file exists. */
function loadQueueState(
  statePath: string,
  logPath: string,
):
  | { messages: StoredMessage[]; generation: number; continuable?: { snapshotBytes: number; logBytes: number } }
  | undefined {
  const snapshot = readStateFile(statePath);
  const log = readStateFile(logPath);
  if (snapshot === undefined && log === undefined) return undefined;
  let generation = 0;
  let version: number | undefined;
  const messages = new Map<string, StoredMessage>();
  if (snapshot !== undefined) {
    let state: StateFile;
    try {
      state = JSON.parse(snapshot) as StateFile;
    } catch (error) {
      throw new QueueStateError(
        statePath,
        `Queue state ${statePath} is not valid JSON: fix it or delete it (its messages are then lost)`,
        { cause: error },
      );
    }
    if (
      state?.format !== STATE_FORMAT ||
      ![1, 2, STATE_VERSION].includes(state.version) ||
      !Array.isArray(state.messages)
    ) {
      throw new QueueStateError(
        statePath,
        `Queue state ${statePath} is not a ${STATE_FORMAT} v1 to v${STATE_VERSION} file: delete it or point the stack at another directory`,
      );
    }
    generation = state.generation ?? 0;
    version = state.version;
    for (const message of state.messages) messages.set(message.messageId, message);
  }
  const continued = log !== undefined && replayLog(logPath, log, generation, messages);
  const list = [...messages.values()];
  // A current snapshot continued by a short log of its own generation whose last line is whole:
  // new changes can be appended to that log as they are after any write (a torn last line must
  // go first, or the next append would join it; a log of another generation is ignored, so it
  // must be replaced before anything is appended to it).
  const logBytes = log === undefined ? 0 : Buffer.byteLength(log);
  const continuable =
    snapshot !== undefined &&
    version === STATE_VERSION &&
    continued &&
    log.endsWith('\n') &&
    logBytes <= OPEN_FOLD_LOG_BYTES;
  return {
    messages: list,
    generation,
    ...(continuable ? { continuable: { snapshotBytes: Buffer.byteLength(snapshot), logBytes } } : {}),
  };
}

function readStateFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new QueueStateError(file, `Cannot read queue state ${file}`, { cause: error });
  }
}

/**
 * Applies the log to `messages` when it continues snapshot `generation` (a log of another
 * generation was already folded in by a compaction that crashed before replacing it).
 */
/** Applies the log's changes when it continues this snapshot generation; returns whether it does. */
function replayLog(logPath: string, log: string, generation: number, messages: Map<string, StoredMessage>): boolean {
  const lines = log.split('\n');
  // The text after the last line break is a line whose append never finished: its call never returned.
  lines.pop();
  const corrupt = (line: number, cause?: unknown) =>
    new QueueStateError(
      logPath,
      `Queue log ${logPath} line ${line} is not a valid change: fix it or delete it (its changes are then lost)`,
      cause === undefined ? undefined : { cause },
    );
  let header: { format?: unknown; generation?: unknown };
  try {
    header = JSON.parse(lines[0] ?? '{}') as typeof header;
  } catch (error) {
    throw corrupt(1, error);
  }
  if (lines.length === 0 || header.generation !== generation) return false;
  if (header.format !== STATE_FORMAT) throw corrupt(1);
  for (let index = 1; index < lines.length; index++) {
    let entry: Partial<{ put: StoredMessage; del: string }>;
    try {
      entry = JSON.parse(lines[index] as string) as typeof entry;
    } catch (error) {
      throw corrupt(index + 1, error);
    }
    if (entry.put && typeof entry.put.messageId === 'string') messages.set(entry.put.messageId, entry.put);
    else if (typeof entry.del === 'string') messages.delete(entry.del);
    else throw corrupt(index + 1);
  }
  return true;
}

/** Replaces `file` with `text` through a temp file and a rename: readers see the old or the new file. */
/**
 * Replaces `file` (temp file + rename) with what `fill` writes through its `write` callback,
 * buffered in pieces of about 1 MiB; returns the bytes written.
 */
function replaceFileWith(file: string, fill: (write: (text: string) => void) => void): number {
  const temp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'w');
    const out = fd;
    let bytes = 0;
    let pending: string[] = [];
    let pendingLength = 0;
    const flush = () => {
      const buffer = Buffer.from(pending.join(''));
      pending = [];
      pendingLength = 0;
      let offset = 0;
      while (offset < buffer.length) offset += writeSync(out, buffer, offset);
      bytes += buffer.length;
    };
    fill((text) => {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength >= 1 << 20) flush();
    });
    flush();
    closeSync(fd);
    fd = undefined;
    renameSync(temp, file);
    return bytes;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw new QueueStateError(file, `Cannot write queue state ${file}`, { cause: error });
  }
}

function replaceFile(file: string, text: string): void {
  const temp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new QueueStateError(file, `Cannot write queue state ${file}`, { cause: error });
  }
}

export interface QueueWithDeadLetterQueueOptions {
  /** The source queue name; its DLQ is `<name>-dlq`. */
  readonly name: string;
  readonly settings: Pick<
    QueueSettings,
    'visibilityTimeoutSeconds' | 'messageRetentionSeconds' | 'dlqMessageRetentionSeconds' | 'maxReceiveCount'
  >;
  readonly stateDir?: string;
  readonly timeScale?: number;
  readonly clock?: Clock;
}

/**
 * A queue and its dead-letter queue (`<name>-dlq`) configured from the project's queue
 * settings (the same definition the Terraform uses), both persisted under `stateDir` when given.
 */
export function createQueueWithDeadLetterQueue(options: QueueWithDeadLetterQueueOptions): {
  queue: LocalQueue;
  deadLetterQueue: LocalQueue;
} {
  const { name, settings, stateDir, timeScale, clock } = options;
  const common = {
    ...(stateDir ? { stateDir } : {}),
    ...(timeScale ? { timeScale } : {}),
    ...(clock ? { clock } : {}),
  };
  const deadLetterQueue = new LocalQueue({
    ...common,
    name: `${name}-dlq`,
    messageRetentionSeconds: settings.dlqMessageRetentionSeconds,
  });
  const queue = new LocalQueue({
    ...common,
    name,
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    messageRetentionSeconds: settings.messageRetentionSeconds,
    redrive: { deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
  });
  return { queue, deadLetterQueue };
}

/** The SQS ARN of a local queue name. */
export function localQueueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
}

/** UTF-8 size of a message as SQS counts it: body plus each attribute's name, type and value. */
export function messageBytes(body: string, attributes: MessageAttributes): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += Buffer.from(value.BinaryValue, 'base64').length;
  }
  return bytes;
}

function validateMessage(body: unknown, attributes: MessageAttributes): { code: string; message: string } | undefined {
  if (typeof body !== 'string' || body.length === 0) {
    return { code: 'MissingParameter', message: 'The request must contain the parameter MessageBody.' };
  }
  if (INVALID_BODY_CHARACTER.test(body)) {
    return {
      code: 'InvalidMessageContents',
      message:
        'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    };
  }
  const names = Object.keys(attributes);
  if (names.length > 10) {
    return {
      code: 'InvalidParameterValue',
      message: `Number of message attributes [${names.length}] exceeds the allowed maximum [10].`,
    };
  }
  for (const name of names) {
    const value = attributes[name];
    const lower = name.toLowerCase();
    if (!ATTRIBUTE_NAME.test(name) || lower.startsWith('aws.') || lower.startsWith('amazon.') || name.includes('..')) {
      return { code: 'InvalidParameterValue', message: `Message attribute name '${name}' is invalid.` };
    }
    if (!value || !/^(String|Number|Binary)(\..+)?$/.test(value.DataType)) {
      return {
        code: 'InvalidParameterValue',
        message: `Message attribute '${name}' has an invalid message attribute type.`,
      };
    }
    const isBinary = value.DataType.startsWith('Binary');
    if ((isBinary && value.BinaryValue === undefined) || (!isBinary && value.StringValue === undefined)) {
      return {
        code: 'InvalidParameterValue',
        message: `Message attribute '${name}' must contain a non-empty value of type '${value.DataType}'.`,
      };
    }
    if (value.DataType.startsWith('Number') && !Number.isFinite(Number(value.StringValue))) {
      return { code: 'InvalidParameterValue', message: `Message attribute '${name}' has an invalid Number value.` };
    }
  }
  const bytes = messageBytes(body, attributes);
  if (bytes > MAX_MESSAGE_BYTES) {
    return {
      code: 'InvalidParameterValue',
      message: `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes (this one is ${bytes}).`,
    };
  }
  return undefined;
}

function assertVisibilityTimeout(seconds: number): void {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
    throw new QueueRequestError(
      'InvalidParameterValue',
      `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${MAX_VISIBILITY_TIMEOUT_SECONDS}.`,
    );
  }
}

function newReceiptHandle(): string {
  return Buffer.from(`${randomUUID()}:${randomUUID()}`).toString('base64url');
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}
