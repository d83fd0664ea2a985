import './zod-locale.js';
import * as z from 'zod/mini';

/** `kind` of the notifier's body for the `lambda` protocol, which the slack-forwarder reads. */
export const NOTIFICATION_KIND = 'covid-etl.notification';

/** The notifier's `lambda` body: a run outcome, pre-rendered for chat. */
export const RunNotification = z.object({
  kind: z.literal(NOTIFICATION_KIND),
  subject: z.string(),
  status: z.string(),
  runId: z.string(),
  environment: z.string(),
  /** A short Slack mrkdwn summary. */
  text: z.string(),
});
export type RunNotification = z.infer<typeof RunNotification>;
