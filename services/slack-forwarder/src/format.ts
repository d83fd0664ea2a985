/**
 * Slack incoming-webhook messages (`text` fallback + Block Kit `blocks`) for what arrives on
 * the topics: the notifier's `covid-etl.notification` body, a CloudWatch alarm, or anything else.
 * Pure functions.
 */

import { RunNotification, type RunStatus } from '@covid-etl/contracts';
import { escapeMrkdwn, oneLine, truncate } from '@covid-etl/core';

export { NOTIFICATION_KIND, RunNotification } from '@covid-etl/contracts';

/** Slack's limits: header text 150 characters, section text 3000, fallback text kept short. */
const MAX_HEADER = 150;
const MAX_SECTION = 3000;
const MAX_FALLBACK = 500;
/** How much of an unknown message is shown. */
const MAX_OTHER_MESSAGE = 2000;

export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

export type SlackBlock =
  | { type: 'header'; text: SlackText & { type: 'plain_text' } }
  | { type: 'section'; text: SlackText }
  | { type: 'context'; elements: SlackText[] };

/** The JSON posted to an incoming webhook. */
export interface SlackMessage {
  /** Fallback for notifications and clients without blocks (mrkdwn). */
  text: string;
  blocks: SlackBlock[];
}

/** The JSON CloudWatch publishes to SNS when an alarm changes state (the fields used here). */
export interface CloudWatchAlarm {
  AlarmName: string;
  NewStateValue: string;
  NewStateReason?: string;
  AlarmDescription?: string | null;
  Region?: string;
  StateChangeTime?: string;
  OldStateValue?: string;
}

export type IncomingKind = 'notification' | 'alarm' | 'other';

export interface FormattedMessage {
  kind: IncomingKind;
  /** The run the message is about, when it is a run notification. */
  runId?: string;
  slack: SlackMessage;
}

/** One emoji per status a run can be announced in (every status but RUNNING: the type says so). */
const STATUS_EMOJI: Record<Exclude<RunStatus, 'RUNNING'>, string> = {
  SUCCEEDED: ':white_check_mark:',
  PARTIAL: ':warning:',
  FAILED: ':x:',
  INCOMPLETE: ':rotating_light:',
  HELD: ':raised_hand:',
  REJECTED: ':no_entry:',
  ABANDONED: ':no_entry_sign:',
};

const ALARM_EMOJI: Record<string, string> = {
  ALARM: ':rotating_light:',
  OK: ':white_check_mark:',
  INSUFFICIENT_DATA: ':grey_question:',
};

/** Builds the Slack message for one SNS message (`Subject` may be absent). */
export function formatSlackMessage({
  subject,
  message,
}: {
  subject?: string | null;
  message: string;
}): FormattedMessage {
  const json = parseJson(message);
  if (isRunNotification(json)) return { kind: 'notification', runId: json.runId, slack: formatRunNotification(json) };
  if (isCloudWatchAlarm(json)) return { kind: 'alarm', slack: formatAlarm(json) };
  return { kind: 'other', slack: formatOther(subject ?? undefined, message) };
}

/** `:warning: [covid-etl dev] Run 2026-11-25 PARTIAL: ...` with the notifier's mrkdwn summary. */
export function formatRunNotification(notification: RunNotification): SlackMessage {
  const emoji = STATUS_EMOJI[notification.status as keyof typeof STATUS_EMOJI] ?? ':information_source:';
  const subject = oneLine(notification.subject);
  return {
    text: truncateMrkdwn(`${emoji} ${escapeMrkdwn(subject)}`, MAX_FALLBACK),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(`${emoji} ${subject}`, MAX_HEADER), emoji: true } },
      // The notifier already wrote (and escaped) this text as mrkdwn.
      { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(notification.text, MAX_SECTION) || subject } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `covid-etl · ${escapeMrkdwn(oneLine(notification.environment))} · run \`${escapeMrkdwn(oneLine(notification.runId))}\``,
          },
        ],
      },
    ],
  };
}

/** `:rotating_light: ALARM covid-etl-dev-loader-dlq-depth: <description>` with the reason and when. */
export function formatAlarm(alarm: CloudWatchAlarm): SlackMessage {
  const state = oneLine(alarm.NewStateValue);
  const emoji = ALARM_EMOJI[state] ?? ':bell:';
  const name = oneLine(alarm.AlarmName);
  const description = alarm.AlarmDescription ? oneLine(alarm.AlarmDescription) : undefined;
  const headline = `${emoji} ${state} ${name}`;
  const details = [`${emoji} *${escapeMrkdwn(state)}* \`${escapeMrkdwn(name)}\``];
  if (description) details.push(escapeMrkdwn(description));
  if (alarm.NewStateReason) details.push(`> ${escapeMrkdwn(oneLine(alarm.NewStateReason))}`);
  const context = [
    alarm.Region,
    alarm.StateChangeTime,
    alarm.OldStateValue ? `was ${alarm.OldStateValue}` : undefined,
  ].filter((part): part is string => Boolean(part));
  const blocks: SlackBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(details.join('\n'), MAX_SECTION) } },
  ];
  if (context.length > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(oneLine(context.join(' · '))) }] });
  }
  return {
    text: truncateMrkdwn(escapeMrkdwn(description ? `${headline}: ${description}` : headline), MAX_FALLBACK),
    blocks,
  };
}

/** Any other message: its subject and its text, cut. */
export function formatOther(subject: string | undefined, message: string): SlackMessage {
  const title = subject?.trim() ? oneLine(subject) : 'SNS notification';
  const body = truncate(message.trim(), MAX_OTHER_MESSAGE) || '(empty message)';
  return {
    text: truncateMrkdwn(escapeMrkdwn(`${title}: ${oneLine(body)}`), MAX_FALLBACK),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(`*${escapeMrkdwn(title)}*`, MAX_SECTION) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(escapeMrkdwn(body), MAX_SECTION) } },
    ],
  };
}

function isRunNotification(value: unknown): value is RunNotification {
  return RunNotification.safeParse(value).success;
}

function isCloudWatchAlarm(value: unknown): value is CloudWatchAlarm {
  return isRecord(value) && typeof value.AlarmName === 'string' && typeof value.NewStateValue === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Cuts escaped mrkdwn without leaving half an entity (`&am…`). */
function truncateMrkdwn(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  return `${text
    .slice(0, maxLength - 1)
    .replace(/&[a-z]{0,3}$/, '')
    .trimEnd()}…`;
}
