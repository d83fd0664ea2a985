import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, NotificationPublisher } from '../ports.js';

/** Publishes one notification to an SNS topic with a body per protocol (`MessageStructure: json`). */
export class SnsNotificationPublisher implements NotificationPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notification: Notification): Promise<{ messageId: string }> {
    const response = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: notification.subject,
        MessageStructure: 'json',
        Message: JSON.stringify(notification.bodies),
      }),
    );
    return { messageId: response.MessageId ?? '' };
  }
}
