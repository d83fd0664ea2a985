import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  EventBridgePublisher,
  PermanentError,
  SnsNotificationPublisher,
  SqsMessageSender,
  SsmSecretReader,
  TransientError,
} from '../src/index.js';

const sqsMock = mockClient(SQSClient);
const ebMock = mockClient(EventBridgeClient);
const snsMock = mockClient(SNSClient);
const ssmMock = mockClient(SSMClient);
const fast = { baseDelayMs: 1, maxAttempts: 4 };
const messages = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `m${i}`, body: JSON.stringify({ i }) }));

beforeEach(() => {
  sqsMock.reset();
  ebMock.reset();
  snsMock.reset();
  ssmMock.reset();
});

describe('SqsMessageSender', () => {
  it('sends at most 10 entries per SendMessageBatch call', async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const sender = new SqsMessageSender(new SQSClient({}), 'https://sqs/q', fast);
    // Act
    await sender.sendAll(messages(23));
    // Assess
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    const ids = calls.flatMap((call) => call.args[0].input.Entries?.map((entry) => entry.Id));
    expect(new Set(ids).size).toBe(23);
  });

  it('retries exactly the Failed entries of a call that succeeded', async () => {
    // Prepare: the first call fails two entries, the retry succeeds.
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [
          { Id: 'm1', Code: 'InternalError', SenderFault: false },
          { Id: 'm4', Code: 'InternalError', SenderFault: false },
        ],
      })
      .resolves({ Failed: [] });
    const sender = new SqsMessageSender(new SQSClient({}), 'https://sqs/q', fast);
    // Act
    await sender.sendAll(messages(5));
    // Assess
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    const retry = sqsMock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries;
    expect(retry?.map((entry) => entry.Id)).toEqual(['m1', 'm4']);
  });

  it('throws when entries keep failing, naming them', async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [{ Id: 'm0', Code: 'InternalError', SenderFault: false }] });
    const sender = new SqsMessageSender(new SQSClient({}), 'https://sqs/q', fast);
    // Act / Assess
    await expect(sender.sendAll(messages(2))).rejects.toThrow(TransientError);
    await expect(sender.sendAll(messages(2))).rejects.toThrow(/m0/);
  });

  it('treats a sender fault as permanent and refuses bodies over 256 KiB before sending', async () => {
    // Prepare
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: 'm0', Code: 'InvalidMessageContents', SenderFault: true }] });
    const sender = new SqsMessageSender(new SQSClient({}), 'https://sqs/q', fast);
    // Act / Assess
    await expect(sender.sendAll(messages(1))).rejects.toThrow(PermanentError);
    sqsMock.resetHistory();
    await expect(sender.sendAll([{ id: 'big', body: 'x'.repeat(256 * 1024 + 1) }])).rejects.toThrow(/at most 262144/);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });
});

describe('EventBridgePublisher', () => {
  it('puts events with the pipeline source and retries retryable failed entries', async () => {
    // Prepare
    ebMock
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), 'bus', fast);
    // Act
    await publisher.publish([{ detailType: 'EtlRunCompleted', detail: { version: 1 } }]);
    // Assess
    expect(ebMock).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    expect(ebMock).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        { EventBusName: 'bus', Source: 'covid-etl.pipeline', DetailType: 'EtlRunCompleted', Detail: '{"version":1}' },
      ],
    });
  });

  it('throws on a non-retryable FailedEntryCount instead of reporting success', async () => {
    // Prepare
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException' }] });
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), 'bus', fast);
    // Act / Assess
    await expect(publisher.publish([{ detailType: 'EtlRunFailed', detail: {} }])).rejects.toThrow(/AccessDenied/);
    expect(ebMock).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('splits more than 10 events into several calls', async () => {
    // Prepare
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const publisher = new EventBridgePublisher(new EventBridgeClient({}), 'bus', fast);
    // Act
    await publisher.publish(Array.from({ length: 12 }, () => ({ detailType: 'EtlRunCompleted' as const, detail: {} })));
    // Assess
    expect(ebMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([10, 2]);
  });
});

describe('SnsNotificationPublisher and SsmSecretReader', () => {
  it('publishes one JSON-structured message with a subject', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({ MessageId: 'abc' });
    const publisher = new SnsNotificationPublisher(new SNSClient({}), 'arn:aws:sns:us-east-1:1:t');
    // Act
    const result = await publisher.publish({ subject: 'S', bodies: { default: 'd', email: 'e' } });
    // Assess
    expect(result.messageId).toBe('abc');
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:1:t',
      Subject: 'S',
      MessageStructure: 'json',
      Message: '{"default":"d","email":"e"}',
    });
  });

  it('reads a SecureString decrypted, caches it, and explains an empty one', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand, { Name: '/p' }).resolves({ Parameter: { Value: 'https://hooks' } });
    ssmMock.on(GetParameterCommand, { Name: '/empty' }).resolves({ Parameter: { Value: ' ' } });
    const reader = new SsmSecretReader(new SSMClient({}));
    // Act
    const first = await reader.read('/p');
    const second = await reader.read('/p');
    // Assess
    expect([first, second]).toEqual(['https://hooks', 'https://hooks']);
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/p', WithDecryption: true });
    expect(ssmMock).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    await expect(reader.read('/empty')).rejects.toThrow(/empty: set it with aws ssm put-parameter/);
  });
});
