import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type {
  ChangeMessageVisibilityBatchCommandInput,
  DeleteMessageCommandInput,
  GetQueueAttributesCommandInput,
  Message,
  MessageAttributeValue,
  ReceiveMessageCommandInput,
  SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { Output } from '../../src/commands/output.js';
import type { OperatorConfig } from '../../src/ops/config.js';

/** A message held by the fake SQS. */
export interface FakeMessage {
  id: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  sent: number;
  receiveCount: number;
  firstReceive?: number;
  visibleAt: number;
  handle?: string;
}

/**
 * An in-memory stand-in for the SQS calls the operator backend makes on messages
 * (ReceiveMessage, SendMessage, DeleteMessage, ChangeMessageVisibilityBatch,
 * GetQueueAttributes), wired into aws-sdk-client-mock with `callsFake`, so tests can assert
 * where every message is after a command.
 */
export class FakeSqs {
  readonly queues = new Map<string, FakeMessage[]>();
  now = Date.parse('2026-11-25T12:00:00Z');

  constructor(urls: string[]) {
    for (const url of urls) this.queues.set(url, []);
  }

  queue(url: string): FakeMessage[] {
    const queue = this.queues.get(url);
    if (!queue)
      throw Object.assign(new Error(`The specified queue does not exist: ${url}`), { name: 'QueueDoesNotExist' });
    return queue;
  }

  put(url: string, body: string, extra: Partial<FakeMessage> = {}): FakeMessage {
    const message: FakeMessage = {
      id: randomUUID(),
      body,
      attributes: {},
      sent: this.now - 60_000,
      receiveCount: 5,
      firstReceive: this.now - 59_000,
      visibleAt: 0,
      ...extra,
    };
    this.queue(url).push(message);
    return message;
  }

  bodies(url: string): string[] {
    return this.queue(url).map((m) => m.body);
  }

  receive = (input: ReceiveMessageCommandInput) => {
    const max = input.MaxNumberOfMessages ?? 1;
    const out: Message[] = [];
    for (const m of this.queue(input.QueueUrl ?? '')) {
      if (out.length >= max) break;
      if (m.visibleAt > this.now) continue;
      m.receiveCount += 1;
      m.firstReceive ??= this.now;
      m.handle = randomUUID();
      m.visibleAt = this.now + (input.VisibilityTimeout ?? 30) * 1000;
      out.push({
        MessageId: m.id,
        ReceiptHandle: m.handle,
        Body: m.body,
        Attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          ApproximateFirstReceiveTimestamp: String(m.firstReceive),
          SentTimestamp: String(m.sent),
        },
        ...(Object.keys(m.attributes).length ? { MessageAttributes: m.attributes } : {}),
      });
    }
    return { Messages: out };
  };

  send = (input: SendMessageCommandInput) => {
    const m = this.put(input.QueueUrl ?? '', input.MessageBody ?? '', {
      attributes: input.MessageAttributes ?? {},
      sent: this.now,
      receiveCount: 0,
      firstReceive: undefined,
    });
    return { MessageId: m.id };
  };

  delete = (input: DeleteMessageCommandInput) => {
    const queue = this.queue(input.QueueUrl ?? '');
    const index = queue.findIndex((m) => m.handle === input.ReceiptHandle);
    if (index >= 0) queue.splice(index, 1);
    return {};
  };

  changeVisibility = (input: ChangeMessageVisibilityBatchCommandInput) => {
    const queue = this.queue(input.QueueUrl ?? '');
    for (const entry of input.Entries ?? []) {
      const m = queue.find((q) => q.handle === entry.ReceiptHandle);
      if (m) m.visibleAt = this.now + (entry.VisibilityTimeout ?? 0) * 1000;
    }
    return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] };
  };

  attributes = (input: GetQueueAttributesCommandInput) => {
    const queue = this.queue(input.QueueUrl ?? '');
    const visible = queue.filter((m) => m.visibleAt <= this.now).length;
    return {
      Attributes: {
        ApproximateNumberOfMessages: String(visible),
        ApproximateNumberOfMessagesNotVisible: String(queue.length - visible),
      },
    };
  };
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The operator configuration of a deployed environment, as the Terraform outputs it. */
export function operatorConfig(environment = 'dev'): OperatorConfig {
  const url = (name: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
  const arn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
  const queue = (key: string) => {
    const name = `covid-etl-${environment}-${key}`;
    return { url: url(name), arn: arn(name), dlq_url: url(`${name}-dlq`), dlq_arn: arn(`${name}-dlq`) };
  };
  const standalone = (key: string, replayTo: string) => ({
    url: url(`covid-etl-${environment}-${key}`),
    arn: arn(`covid-etl-${environment}-${key}`),
    replay_to: replayTo,
  });
  return {
    environment,
    region: REGION,
    tables: { data: `covid-etl-${environment}-data`, ledger: `covid-etl-${environment}-ledger` },
    queues: { transformer: queue('transformer'), loader: queue('loader'), notifier: queue('notifier') },
    // As terraform/modules/pipeline writes them (prod: the counties backfill is scheduled).
    dead_letter_queues: {
      events: standalone('events-dlq', 'queue:notifier'),
      fetcher_schedule: standalone('fetcher-schedule-dlq', 'function:fetcher'),
      watchdog_schedule: standalone('watchdog-schedule-dlq', 'function:watchdog'),
      async: standalone('async-dlq', 'record'),
      counties_backfill_schedule: standalone('counties-backfill-schedule-dlq', 'function:fetcher'),
    },
    event_bus_name: `covid-etl-${environment}`,
    topic_arns: {
      notifications: `arn:aws:sns:${REGION}:${ACCOUNT}:covid-etl-${environment}-notifications`,
      alerts: `arn:aws:sns:${REGION}:${ACCOUNT}:covid-etl-${environment}-alerts`,
    },
    functions: {
      fetcher: `covid-etl-${environment}-fetcher`,
      transformer: `covid-etl-${environment}-transformer`,
      loader: `covid-etl-${environment}-loader`,
      notifier: `covid-etl-${environment}-notifier`,
      slack_forwarder: `covid-etl-${environment}-slack-forwarder`,
      watchdog: `covid-etl-${environment}-watchdog`,
      dashboard: `covid-etl-${environment}-dashboard`,
    },
  };
}

/** Every queue URL of a configuration (work queues and DLQs). */
export function allQueueUrls(config: OperatorConfig): string[] {
  return [
    ...Object.values(config.queues).flatMap((q) => [q.url, q.dlq_url]),
    ...Object.values(config.dead_letter_queues ?? {}).map((q) => q.url),
  ];
}

/** An Output whose stdout and stderr are kept in strings (stderr acts as a terminal: every progress line is kept). */
export function captureOutput() {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const out = new Output({
    stdout: sink((t) => {
      stdout += t;
    }),
    stderr: Object.assign(
      sink((t) => {
        stderr += t;
      }),
      { isTTY: true },
    ) as unknown as NodeJS.WriteStream,
  });
  return { out, stdout: () => stdout, stderr: () => stderr, json: () => JSON.parse(stdout) as unknown };
}
