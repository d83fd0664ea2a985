import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SNSEvent } from 'aws-lambda';
import { LocalTopic, ManualClock, TopicRequestError } from '../src/index.js';

let outbox: string;

beforeEach(() => {
  outbox = mkdtempSync(path.join(tmpdir(), 'local-outbox-'));
});

afterEach(() => {
  rmSync(outbox, { recursive: true, force: true });
});

/** Splits an RFC 5322 message into unfolded headers (lower-case names) and body. */
function parseEml(raw: string): { headers: Map<string, string>; body: string } {
  const [head = '', ...rest] = raw.split(/\r\n\r\n/);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: rest.join('\r\n\r\n') };
}

/** Decodes a quoted-printable body to text. */
function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => `%${hex}`);
  return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/g, '%25'));
}

describe('LocalTopic: publish validation', () => {
  it.each([
    ['100 characters', 'x'.repeat(100)],
    ['a line break', 'Run done\nsecond line'],
    ['a control character', 'Run\u0007done'],
    ['non-ASCII text', 'Run terminé'],
    ['a leading space', ' Run done'],
    ['nothing', ''],
  ])('refuses a subject with %s', async (_label, Subject) => {
    // Prepare
    const topic = new LocalTopic({ name: 'covid-etl-local-notifications' });

    // Act
    const attempt = topic.publish({ Subject, Message: 'body' });

    // Assess
    await expect(attempt).rejects.toThrow(TopicRequestError);
    await expect(attempt).rejects.toMatchObject({ code: 'InvalidParameter' });
    expect(topic.published).toHaveLength(0);
  });

  it('refuses empty and oversized messages and JSON structures without a default body', async () => {
    // Prepare
    const topic = new LocalTopic({ name: 'topic' });

    // Act
    const attempts = [
      topic.publish({ Message: '' }),
      topic.publish({ Message: 'x'.repeat(262_145) }),
      topic.publish({ Message: '{"email":"only email"}', MessageStructure: 'json' }),
      topic.publish({ Message: 'not json', MessageStructure: 'json' }),
      topic.publish({ Message: '{"default":{"nested":true}}', MessageStructure: 'json' }),
    ];

    // Assess
    for (const attempt of attempts) await expect(attempt).rejects.toThrow(TopicRequestError);
    await expect(topic.publish({ Subject: 'x'.repeat(99), Message: 'x'.repeat(262_144) })).resolves.toEqual({
      MessageId: expect.any(String),
    });
  });
});

describe('LocalTopic: email outbox', () => {
  it('writes one RFC 5322 .eml per publish and address, with the email body of a JSON-structured message', async () => {
    // Prepare
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 6, 0, 1, 5));
    const topic = new LocalTopic({ name: 'covid-etl-local-notifications', clock });
    topic.subscribeEmail(outbox, 'ops@example.com');
    topic.subscribeEmail(outbox, 'data@example.com');
    const emailBody = `Run s-20261125T060000Z: 1 new, 3 updated.\nRejected: line 7 — deaths is negative\n${'long '.repeat(40)}`;

    // Act
    const { MessageId } = await topic.publish({
      Subject: '[covid-etl dev] Run 2026-11-25: 1 new, 3 updated',
      Message: JSON.stringify({ default: 'short', email: emailBody, lambda: '{"for":"slack"}' }),
      MessageStructure: 'json',
    });
    clock.advance(1_000);
    await topic.publish({ Subject: 'Second', Message: 'plain' });

    // Assess
    const files = readdirSync(outbox);
    expect(files).toEqual([...files].sort());
    expect(files).toHaveLength(4);
    expect(files[0]).toMatch(/^20261125T060001005Z-\d{6}-covid-etl-dev-run-2026-11-25-1-new-3-updated\.eml$/);
    const first = parseEml(readFileSync(path.join(outbox, files[0] ?? ''), 'utf8'));
    expect(first.headers.get('subject')).toBe('[covid-etl dev] Run 2026-11-25: 1 new, 3 updated');
    expect(first.headers.get('to')).toBe('ops@example.com');
    expect(first.headers.get('from')).toBe('AWS Notifications <no-reply@sns.local>');
    expect(first.headers.get('date')).toBe('Wed, 25 Nov 2026 06:00:01 +0000');
    expect(first.headers.get('message-id')).toMatch(/^<[^<>@\s]+@sns\.local>$/);
    expect(first.headers.get('mime-version')).toBe('1.0');
    expect(first.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(first.headers.get('content-transfer-encoding')).toBe('quoted-printable');
    expect(first.headers.get('x-amz-sns-message-id')).toBe(MessageId);
    const text = decodeQuotedPrintable(first.body);
    expect(text.startsWith(emailBody.replace(/\n/g, '\r\n'))).toBe(true);
    const raw = readFileSync(path.join(outbox, files[0] ?? ''), 'utf8');
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    const second = parseEml(readFileSync(path.join(outbox, files[1] ?? ''), 'utf8'));
    expect(second.headers.get('to')).toBe('data@example.com');
    const last = parseEml(readFileSync(path.join(outbox, files[3] ?? ''), 'utf8'));
    expect(last.headers.get('subject')).toBe('Second');
    expect(last.body.startsWith('plain')).toBe(true);
  });
});

describe('LocalTopic: Lambda subscription', () => {
  it('invokes the handler with a real-shaped SNSEvent carrying the lambda body, retrying a failing handler twice', async () => {
    // Prepare
    const topic = new LocalTopic({ name: 'notifications' });
    const events: SNSEvent[] = [];
    let calls = 0;
    topic.subscribeLambda(async (event) => {
      calls += 1;
      if (calls === 1) throw new Error('cold start hiccup');
      events.push(event);
    }, 'slack-forwarder');
    topic.subscribeLambda(async () => {
      throw new Error('always down');
    });

    // Act
    const { MessageId } = await topic.publish({
      Subject: 'Run done',
      Message: JSON.stringify({ default: 'short', lambda: '{"text":"for slack"}' }),
      MessageStructure: 'json',
    });

    // Assess
    expect(calls).toBe(2);
    expect(events[0]?.Records[0]).toMatchObject({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: expect.stringMatching(/^arn:aws:sns:local:000000000000:notifications:/),
      Sns: {
        Type: 'Notification',
        MessageId,
        TopicArn: 'arn:aws:sns:local:000000000000:notifications',
        Subject: 'Run done',
        Message: '{"text":"for slack"}',
        Timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      },
    });
    expect(topic.failedDeliveries).toEqual([
      { protocol: 'lambda', endpoint: 'notifications-subscriber', messageId: MessageId, error: expect.any(Error) },
    ]);
  });
});
