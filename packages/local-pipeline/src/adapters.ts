import { EVENT_SOURCE } from '@covid-etl/contracts';
import type { LocalEventBus, LocalQueue, LocalTopic } from '@covid-etl/local-stack';
import {
  ConfigurationError,
  chunksOf,
  type DomainEvent,
  type EventPublisher,
  type MessageSender,
  type Notification,
  type NotificationPublisher,
  type OutgoingMessages,
  PermanentError,
  recordCosts,
  type SecretReader,
  sqsBatches,
  TransientError,
} from '@covid-etl/platform';

/**
 * The local stack's adapters behind the same ports the AWS adapters implement: a queue
 * sender, an event publisher and a notification publisher with the AWS services' batch limits
 * and per-entry failures (each meters what it sends, as `meterAwsClient` does for the AWS
 * clients), and a secret reader backed by the environment.
 */
export class LocalQueueSender implements MessageSender {
  constructor(private readonly queue: LocalQueue) {}

  async sendAll(messages: OutgoingMessages): Promise<void> {
    for await (const batch of sqsBatches(messages)) {
      const result = this.queue.sendBatch(batch.map((message) => ({ Id: message.id, MessageBody: message.body })));
      recordCosts({ sqsSendRequests: 1, sqsMessagesSent: result.Successful.length });
      const failed = result.Failed[0];
      if (failed) {
        const ErrorClass = failed.SenderFault ? PermanentError : TransientError;
        throw new ErrorClass(`${this.queue.name} refused message ${failed.Id}: ${failed.Code} ${failed.Message}`);
      }
    }
  }
}

export class LocalEventPublisher implements EventPublisher {
  constructor(private readonly bus: LocalEventBus) {}

  async publish(events: DomainEvent[]): Promise<void> {
    for (const batch of chunksOf(events, 10)) {
      const result = await this.bus.putEvents(
        batch.map((event) => ({
          Source: EVENT_SOURCE,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
          EventBusName: this.bus.name,
        })),
      );
      recordCosts({ eventsPut: batch.length - result.FailedEntryCount });
      if (result.FailedEntryCount > 0) {
        throw new TransientError(`PutEvents on ${this.bus.name}: ${result.FailedEntryCount} entry(ies) failed`);
      }
    }
  }
}

export class LocalNotificationPublisher implements NotificationPublisher {
  constructor(private readonly topic: LocalTopic) {}

  async publish(notification: Notification): Promise<{ messageId: string }> {
    const result = await this.topic.publish({
      Subject: notification.subject,
      MessageStructure: 'json',
      Message: JSON.stringify(notification.bodies),
    });
    recordCosts({ snsPublishes: 1 });
    return { messageId: result.MessageId };
  }
}

/** Locally the Slack webhook URL comes from `SLACK_WEBHOOK_URL` (in AWS: SSM, at run time). */
export class EnvSecretReader implements SecretReader {
  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  async read(name: string): Promise<string> {
    const value = this.env[name]?.trim();
    if (!value) throw new ConfigurationError(`${name} is not set`);
    return value;
  }
}
