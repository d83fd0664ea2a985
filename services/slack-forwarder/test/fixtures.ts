import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@covid-etl/platform';
import type { SNSEvent } from 'aws-lambda';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:covid-etl-dev-notifications';

/** An SNS event of one record, as Lambda receives it from a subscription. */
export function snsEvent(message: string, subject?: string): SNSEvent {
  return {
    Records: [
      {
        EventVersion: '1.0',
        EventSubscriptionArn: `${TOPIC_ARN}:${randomUUID()}`,
        EventSource: 'aws:sns',
        Sns: {
          SignatureVersion: '1',
          Timestamp: '2026-11-25T06:02:06.000Z',
          Signature: 'TEST',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/cert.pem',
          MessageId: randomUUID(),
          Message: message,
          MessageAttributes: {},
          Type: 'Notification',
          UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
          TopicArn: TOPIC_ARN,
          ...(subject === undefined ? {} : { Subject: subject }),
        } as SNSEvent['Records'][number]['Sns'],
      },
    ],
  };
}

/** The notifier's `lambda` body for a PARTIAL run. */
export function runNotification(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: 'covid-etl.notification',
    subject: '[covid-etl dev] Run 2026-11-25 PARTIAL: 2 new, 5 rows rejected',
    status: 'PARTIAL',
    runId: 's-20261125T060000Z',
    environment: 'dev',
    text: '*PARTIAL*: run `s-20261125T060000Z` (dev, schedule)\n2 new, 0 updated, 10 unchanged, 5 rejected',
    ...overrides,
  });
}

/** A CloudWatch alarm state change as CloudWatch publishes it to SNS. */
export function alarmMessage(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    AlarmName: 'covid-etl-dev-loader-dlq-depth',
    AlarmDescription: 'Messages are waiting in the loader DLQ: replay them with pnpm etl dlq redrive',
    AWSAccountId: '000000000000',
    AlarmConfigurationUpdatedTimestamp: '2026-11-20T10:00:00.000+0000',
    NewStateValue: 'ALARM',
    NewStateReason:
      'Threshold Crossed: 1 out of the last 1 datapoints [2.0 (25/11/26 06:00:00)] was greater than or equal to the threshold (1.0).',
    StateChangeTime: '2026-11-25T06:05:00.000+0000',
    Region: 'US East (N. Virginia)',
    AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:covid-etl-dev-loader-dlq-depth',
    OldStateValue: 'OK',
    Trigger: { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS' },
    ...overrides,
  });
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WebhookServer {
  /** A webhook URL on this server, with a secret-looking path. */
  url: string;
  requests: RecordedRequest[];
  /** What the next requests get: status and body (and headers), or `hang` to never answer. */
  answer: { status: number; body: string; headers?: Record<string, string> } | 'hang';
  /** Answers given first, one a request, before `answer`. */
  answers: Array<{ status: number; body: string; headers?: Record<string, string> }>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 standing in for Slack's incoming webhook. */
export async function startWebhookServer(): Promise<WebhookServer> {
  const requests: RecordedRequest[] = [];
  const state: WebhookServer = {
    url: '',
    requests,
    answer: { status: 200, body: 'ok' },
    answers: [],
    close: async () => undefined,
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = state.answers.shift() ?? state.answer;
      if (answer === 'hang') return;
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/services/T0TEST/B0TEST/s3cr3tW3bh00kT0k3n`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A JSON logger whose raw output the test can read. */
export function capturedLogger(): { logger: Logger; raw: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const logger = createLogger({
    service: 'slack-forwarder',
    level: 'debug',
    destination: { write: (line: string) => chunks.push(line) },
  });
  const raw = () => chunks.join('');
  return {
    logger,
    raw,
    lines: () =>
      raw()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A secret reader over a fixed map. */
export function secretsOf(values: Record<string, string>) {
  const reads: string[] = [];
  return {
    reads,
    read: async (name: string): Promise<string> => {
      reads.push(name);
      const value = values[name];
      if (value === undefined) throw new Error(`no secret ${name}`);
      return value;
    },
  };
}
