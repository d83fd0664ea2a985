import { describe, expect, it } from '@jest/globals';
import { formatSlackMessage } from '../src/format.js';
import { alarmMessage, runNotification } from './fixtures.js';

describe('formatSlackMessage', () => {
  it('formats a covid-etl run notification with header, summary and context', () => {
    // Prepare
    const message = runNotification();

    // Act
    const formatted = formatSlackMessage({ subject: '[covid-etl dev] Run 2026-11-25 PARTIAL', message });

    // Assess
    expect(formatted.kind).toBe('notification');
    expect(formatted.runId).toBe('s-20261125T060000Z');
    expect(formatted.slack).toEqual({
      text: ':warning: [covid-etl dev] Run 2026-11-25 PARTIAL: 2 new, 5 rows rejected',
      blocks: [
        {
          type: 'header',
          text: {
            type: 'plain_text',
            text: ':warning: [covid-etl dev] Run 2026-11-25 PARTIAL: 2 new, 5 rows rejected',
            emoji: true,
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*PARTIAL*: run `s-20261125T060000Z` (dev, schedule)\n2 new, 0 updated, 10 unchanged, 5 rejected',
          },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'covid-etl · dev · run `s-20261125T060000Z`' }] },
      ],
    });
  });

  it.each([
    ['SUCCEEDED', ':white_check_mark:'],
    ['FAILED', ':x:'],
    ['INCOMPLETE', ':rotating_light:'],
    ['HELD', ':raised_hand:'],
    ['REJECTED', ':no_entry:'],
    ['ABANDONED', ':no_entry_sign:'],
  ])('marks a %s run with %s', (status, emoji) => {
    // Prepare
    const message = runNotification({ status, subject: `[covid-etl dev] Run 2026-11-25 ${status}` });

    // Act
    const { slack } = formatSlackMessage({ message });

    // Assess
    expect(slack.text).toBe(`${emoji} [covid-etl dev] Run 2026-11-25 ${status}`);
  });

  it('shows the per-level lines of a run with states and counties as the notifier wrote them (escaped once)', () => {
    // Prepare: the notifier's mrkdwn, already escaped.
    const text = [
      '*PARTIAL*: run `s-20261125T060000Z` (dev&amp;co, schedule)',
      'Total: 1,235 new, 15 updated, 21,570 unchanged, 2 rejected',
      '• nation: 1 new, 3 updated, 1,150 unchanged, 0 rejected',
      '• state: 1,234 new, 12 updated, 20,420 unchanged, 2 rejected',
      'Reason: 2 rows rejected: 2 in us-states.csv (state); every other row loaded',
    ].join('\n');

    // Act
    const formatted = formatSlackMessage({ message: runNotification({ text, environment: 'dev&co' }) });

    // Assess
    expect(formatted.slack.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text } });
    expect(formatted.slack.blocks[2]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'covid-etl · dev&amp;co · run `s-20261125T060000Z`' }],
    });
  });

  it('keeps a long notification text within the section limit', () => {
    // Prepare
    const message = runNotification({ text: `${'a'.repeat(2998)} &amp; more` });

    // Act
    const { slack } = formatSlackMessage({ message });

    // Assess
    const section = slack.blocks.find((block) => block.type === 'section');
    const text = section?.type === 'section' ? section.text.text : '';
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/a…$/);
  });

  it('formats a CloudWatch alarm with its state, name, description, reason and time', () => {
    // Prepare
    const message = alarmMessage();

    // Act
    const formatted = formatSlackMessage({ subject: 'ALARM: "covid-etl-dev-loader-dlq-depth" in US East', message });

    // Assess
    expect(formatted.kind).toBe('alarm');
    expect(formatted.runId).toBeUndefined();
    expect(formatted.slack.text).toBe(
      ':rotating_light: ALARM covid-etl-dev-loader-dlq-depth: Messages are waiting in the loader DLQ: replay them with pnpm etl dlq redrive',
    );
    expect(formatted.slack.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            ':rotating_light: *ALARM* `covid-etl-dev-loader-dlq-depth`\n' +
            'Messages are waiting in the loader DLQ: replay them with pnpm etl dlq redrive\n' +
            '> Threshold Crossed: 1 out of the last 1 datapoints [2.0 (25/11/26 06:00:00)] was greater than or equal to the threshold (1.0).',
        },
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: 'US East (N. Virginia) · 2026-11-25T06:05:00.000+0000 · was OK' }],
      },
    ]);
  });

  it('marks an alarm back to OK', () => {
    // Prepare
    const message = alarmMessage({ NewStateValue: 'OK', OldStateValue: 'ALARM', AlarmDescription: null });

    // Act
    const { slack } = formatSlackMessage({ message });

    // Assess
    expect(slack.text).toBe(':white_check_mark: OK covid-etl-dev-loader-dlq-depth');
  });

  it('shows anything else as its subject and its text, escaped and cut', () => {
    // Prepare
    const message = `Deploy <done> & verified\n${'x'.repeat(5000)}`;

    // Act
    const formatted = formatSlackMessage({ subject: 'Pipeline deploy', message });

    // Assess
    expect(formatted.kind).toBe('other');
    expect(formatted.slack.text.startsWith('Pipeline deploy: Deploy &lt;done&gt; &amp; verified x')).toBe(true);
    expect(formatted.slack.text.length).toBeLessThanOrEqual(500);
    const [title, body] = formatted.slack.blocks;
    expect(title).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Pipeline deploy*' } });
    const bodyText = body?.type === 'section' ? body.text.text : '';
    expect(bodyText.startsWith('Deploy &lt;done&gt; &amp; verified\nxxx')).toBe(true);
    expect(bodyText.length).toBeLessThanOrEqual(3000);
    expect(bodyText.endsWith('…')).toBe(true);
  });

  it('treats JSON that is neither a notification nor an alarm as other, with a default title', () => {
    // Prepare
    const message = JSON.stringify({ kind: 'something-else', runId: 's-1' });

    // Act
    const formatted = formatSlackMessage({ subject: null, message });

    // Assess
    expect(formatted.kind).toBe('other');
    expect(formatted.slack.text).toBe('SNS notification: {"kind":"something-else","runId":"s-1"}');
  });
});
