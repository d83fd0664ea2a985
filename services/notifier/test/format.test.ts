import {
  AWS_MESSAGE_LIMIT_BYTES,
  EventDetailType,
  MAX_PENDING_IN_SUMMARY,
  MAX_REJECTED_IN_SUMMARY,
} from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  formatNotification,
  MAX_SUBJECT_LENGTH,
  NOTIFICATION_KIND,
  outcomeFromEnvelope,
  type RunOutcome,
} from '../src/format.js';
import { formatDuration, toAsciiLine } from '../src/text.js';
import { completedEvent, failedEvent, RUN_ID, rejectedRows, runSummary } from './fixtures.js';

const PRINTABLE_ASCII = /^[ -~]+$/;

function completed(overrides: Parameters<typeof runSummary>[0] = {}): RunOutcome {
  return outcomeFromEnvelope(completedEvent(runSummary(overrides)));
}

function failed(reason: string, overrides: Parameters<typeof runSummary>[0] = {}): RunOutcome {
  return outcomeFromEnvelope(failedEvent(reason, runSummary({ status: 'FAILED', ...overrides })));
}

describe('subject', () => {
  it('tells new and updated days of a SUCCEEDED run', () => {
    // Prepare
    const outcome = completed();

    // Act
    const { subject } = formatNotification(outcome);

    // Assess
    expect(subject).toBe('[covid-etl dev] Run 2026-11-25: 1 new, 3 updated');
  });

  it('says "no changes" when a SUCCEEDED run wrote nothing', () => {
    // Prepare
    const outcome = completed({
      counts: { inserted: 0, updated: 0, unchanged: 1154, rejected: 0 },
      note: 'sources unchanged since run s-20261124T060000Z',
    });

    // Act
    const { subject } = formatNotification(outcome);

    // Assess
    expect(subject).toBe('[covid-etl dev] Run 2026-11-25: no changes');
  });

  it('counts rejected rows of a PARTIAL run', () => {
    // Prepare
    const outcome = completed({
      status: 'PARTIAL',
      counts: { inserted: 2, updated: 0, unchanged: 10, rejected: 5 },
      rejectedRows: rejectedRows(5),
    });

    // Act
    const { subject } = formatNotification(outcome);

    // Assess
    expect(subject).toBe('[covid-etl dev] Run 2026-11-25 PARTIAL: 2 new, 5 rows rejected');
  });

  it('gives the reason of a FAILED run', () => {
    // Prepare
    const outcome = failed('nyt line 1: required column "deaths" is missing', {
      counts: { inserted: 0, updated: 0, unchanged: 0, rejected: 0 },
      dateRange: null,
    });

    // Act
    const { subject } = formatNotification(outcome);

    // Assess
    expect(subject).toBe('[covid-etl dev] Run 2026-11-25 FAILED: nyt line 1: required column "deaths" is missing');
  });

  it('says INCOMPLETE when chunks sit in a dead-letter queue', () => {
    // Prepare
    const outcome = failed('2 chunks are in the loader DLQ', { status: 'INCOMPLETE' });

    // Act
    const { subject } = formatNotification(outcome);

    // Assess
    expect(subject).toBe('[covid-etl dev] Run 2026-11-25 INCOMPLETE: 2 chunks are in the loader DLQ');
  });

  it('reports a stalled run (still RUNNING in its summary) as FAILED', () => {
    // Prepare
    const outcome = failed('no progress for 60 minutes', { status: 'RUNNING' });

    // Act
    const notification = formatNotification(outcome);

    // Assess
    expect(notification.subject).toBe('[covid-etl dev] Run 2026-11-25 FAILED: no progress for 60 minutes');
    expect(JSON.parse(notification.bodies.lambda ?? '{}')).toMatchObject({ status: 'FAILED' });
  });

  it('stays plain one-line ASCII under 100 characters with a long non-ASCII reason', () => {
    // Prepare
    const reason = `Łódź “São Paulo” — naïve straße,\r\nline\t2 😀 ${'and on '.repeat(20)}`;
    const outcome = failed(reason);

    // Act
    const { subject } = formatNotification(outcome);

    // Assess
    expect(subject.length).toBeLessThan(100);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(PRINTABLE_ASCII);
    expect(subject).toBe(
      '[covid-etl dev] Run 2026-11-25 FAILED: Lodz "Sao Paulo" - naive strasse, line 2 ? and on and on...',
    );
  });

  it('uses the UTC start date of the run', () => {
    // Prepare
    const outcome = completed({ startedAt: '2026-11-24T23:59:00.000Z', finishedAt: '2026-11-25T00:01:00.000Z' });

    // Act
    const { subject } = formatNotification(outcome);

    // Assess
    expect(subject).toBe('[covid-etl dev] Run 2026-11-24: 1 new, 3 updated');
  });
});

describe('email body', () => {
  it('holds status, ids, counts, date range, duration, sources and chunks', () => {
    // Prepare
    const outcome = completed();

    // Act
    const email = formatNotification(outcome).bodies.email ?? '';

    // Assess
    expect(email).toContain('Status:       SUCCEEDED');
    expect(email).toContain(`Run id:       ${RUN_ID}`);
    expect(email).toContain('Environment:  dev');
    expect(email).toContain('Trigger:      schedule');
    expect(email).toContain('Duration:     2 min 5 s');
    expect(email).toMatch(/inserted: +1\n/);
    expect(email).toMatch(/updated: +3\n/);
    expect(email).toMatch(/unchanged: +1,150\n/);
    expect(email).toMatch(/rejected: +0\n/);
    expect(email).toContain('Date range:   2020-01-21 to 2023-03-23');
    expect(email).toContain('The New York Times us.csv (nyt)');
    expect(email).toContain('https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv');
    expect(email).toContain('ETag W/"5f3a9c", sha256 aaaaaaaaaaaa, 47.1 KiB');
    expect(email).toContain('Johns Hopkins CSSE via datasets/covid-19 (jhu)');
    expect(email).toContain('sha256 0123456789ab, 2.4 MiB');
    expect(email).toContain('Chunks:       2 expected, 2 loaded, 36 skipped');
    expect(email).toContain(`Details: pnpm etl status ${RUN_ID}`);
    expect(email).not.toContain('Rejected rows');
    expect(email).not.toContain('Reason:');
  });

  it('ends with the run cost drivers in the footer (and in Slack); a summary without them has none', () => {
    // Prepare
    const costs = {
      dynamoReadRequests: 120,
      dynamoWriteRequests: 1880,
      dynamoReadUnits: 60.5,
      dynamoWriteUnits: 1880,
      sqsMessagesSent: 78,
      sqsSendRequests: 43,
      sqsMessagesReceived: 78,
      eventsPut: 1,
      bytesDownloaded: 2_345_678,
    };

    // Act
    const withCosts = formatNotification(completed({ costs })).bodies;
    const without = formatNotification(completed()).bodies;

    // Assess
    const line =
      'Cost drivers: DynamoDB 120 reads (60.5 RCU), 1,880 writes (1,880 WCU); SQS 78 messages sent (43 requests), 78 received; 1 event; 2.3 MB downloaded';
    const footer = (withCosts.email ?? '').split('\n--\n')[1] ?? '';
    expect(footer).toContain(line);
    expect(withCosts.lambda).toContain('Cost drivers: DynamoDB 120 reads');
    expect(without.email).not.toContain('Cost drivers');
  });

  it('lists rejected rows with source, line, column, value and reason, and says how many more', () => {
    // Prepare
    const outcome = completed({
      status: 'PARTIAL',
      counts: { inserted: 2, updated: 0, unchanged: 10, rejected: 120 },
      rejectedRows: rejectedRows(MAX_REJECTED_IN_SUMMARY),
    });

    // Act
    const email = formatNotification(outcome).bodies.email ?? '';

    // Assess
    expect(email).toContain('Rejected rows (120)');
    expect(email).toContain('  - nyt line 100, column "deaths", value "-1": deaths must not be negative (row 1)');
    expect(email).toContain('  - nyt line 149, column "deaths", value "-50": deaths must not be negative (row 50)');
    expect(email).toContain('  ... and 70 more');
  });

  it('gives the failure reason, pending chunks with their last error, and the note', () => {
    // Prepare
    const outcome = failed('2 chunks are in the loader DLQ', {
      status: 'INCOMPLETE',
      pendingChunks: [
        { month: '2021-03', stage: 'load', lastError: 'ProvisionedThroughputExceededException:\n  at send (x.js:1)' },
        { month: '2021-04', stage: 'transform' },
      ],
      failure: { reason: '2 chunks are in the loader DLQ', stage: 'load' },
      note: 'replay the DLQ to finish the run',
    });

    // Act
    const email = formatNotification(outcome).bodies.email ?? '';

    // Assess
    expect(email).toContain('Status:       INCOMPLETE (chunks are parked in a dead-letter queue');
    expect(email).toContain('Reason:       2 chunks are in the loader DLQ (stage: load)');
    expect(email).toContain('Pending chunks (2)');
    expect(email).toContain(
      '  - 2021-03, waiting for load: last error: ProvisionedThroughputExceededException: at send (x.js:1)',
    );
    expect(email).toContain('  - 2021-04, waiting for transform');
    expect(email).toContain('Note: replay the DLQ to finish the run');
  });

  it('does not ask to replay anything when the fetcher stopped before dispatching', () => {
    // Prepare
    const reason = 'the fetcher stopped before dispatching: run `pnpm etl run` again, or abandon it';
    const outcome = failed(reason, { status: 'INCOMPLETE', failure: { reason, stage: 'fetch' } });

    // Act
    const email = formatNotification(outcome).bodies.email ?? '';

    // Assess
    expect(email).toContain(
      'Status:       INCOMPLETE (the fetcher stopped before sending the chunks; nothing is parked',
    );
    expect(email).not.toMatch(/replay them/);
  });

  it('fits SNS with 1,000 failed chunks carrying 500-character errors: the first ones, then how many more', () => {
    // Prepare: an event built before summaries were bounded (still in flight) lists them all.
    const error = `TransientError: ${'e'.repeat(485)}`;
    const pendingChunks = Array.from({ length: 1000 }, (_, i) => ({
      month: `${1900 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
      stage: 'transform' as const,
      lastError: error,
    }));
    const outcome = failed('1000 chunks parked', {
      status: 'INCOMPLETE',
      chunks: { expected: 1000, loaded: 0, skipped: 0 },
      pendingChunks,
      counts: { inserted: 0, updated: 0, unchanged: 0, rejected: 900 },
      rejectedRows: rejectedRows(50).map((row) => ({ ...row, reason: 'r'.repeat(500), value: 'v'.repeat(500) })),
    });

    // Act
    const { bodies, subject } = formatNotification(outcome);

    // Assess
    const message = JSON.stringify(bodies);
    expect(Buffer.byteLength(message) + Buffer.byteLength(subject)).toBeLessThan(AWS_MESSAGE_LIMIT_BYTES);
    const email = bodies.email ?? '';
    expect(email).toContain('Pending chunks (1,000)');
    expect(email.match(/^ {2}- \d{4}-\d{2}, waiting for transform/gm)).toHaveLength(MAX_PENDING_IN_SUMMARY);
    expect(email).toContain(`  ... and 980 more: \`pnpm etl status ${RUN_ID}\``);
    expect(email).toContain(`  ... and 850 more: \`pnpm etl status ${RUN_ID}\``);
    const short = JSON.parse(bodies.lambda ?? '{}').text as string;
    expect(short).toContain(`and 995 more: \`pnpm etl status ${RUN_ID}\``);
    expect(short.length).toBeLessThan(3000);
  });

  it('never dumps an object', () => {
    // Prepare
    const outcome = failed('nyt line 1: required column "deaths" is missing', { dateRange: null, sources: [] });

    // Act
    const { bodies } = formatNotification(outcome);

    // Assess
    expect(bodies.email).not.toContain('[object Object]');
    expect(bodies.email).not.toContain('undefined');
    expect(bodies.email).not.toContain('{');
    expect(bodies.email).toContain('Date range:   none');
  });
});

describe('protocol bodies', () => {
  it('has a lambda body for the slack-forwarder', () => {
    // Prepare
    const outcome = completed({
      status: 'PARTIAL',
      counts: { inserted: 2, updated: 0, unchanged: 10, rejected: 5 },
      rejectedRows: [{ source: 'jhu', line: 42, column: 'Confirmed', value: 'x', reason: 'not a <number> & bad' }],
    });

    // Act
    const notification = formatNotification(outcome);
    const lambda = JSON.parse(notification.bodies.lambda ?? '');

    // Assess
    expect(lambda).toEqual({
      kind: NOTIFICATION_KIND,
      subject: notification.subject,
      status: 'PARTIAL',
      runId: RUN_ID,
      environment: 'dev',
      text: expect.any(String),
    });
    expect(lambda.text).toContain(`*PARTIAL*: run \`${RUN_ID}\``);
    expect(lambda.text).toContain('2 new, 0 updated, 10 unchanged, 5 rejected');
    expect(lambda.text).toContain('jhu line 42, column "Confirmed": not a &lt;number&gt; &amp; bad');
    expect(lambda.text).toContain('… and 4 more');
  });

  it('has a default body in the AWS Chatbot custom-notification format', () => {
    // Prepare
    const outcome = failed('nyt line 1: required column "deaths" is missing');

    // Act
    const notification = formatNotification(outcome);
    const chatbot = JSON.parse(notification.bodies.default);

    // Assess
    expect(chatbot).toEqual({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown', title: notification.subject, description: expect.any(String) },
    });
    expect(chatbot.content.description).toContain('Reason: nyt line 1: required column "deaths" is missing');
  });

  it('shortens the rejected-row list to stay under the message size limit', () => {
    // Prepare
    const outcome = completed({
      status: 'PARTIAL',
      counts: { inserted: 0, updated: 0, unchanged: 0, rejected: 5000 },
      rejectedRows: rejectedRows(MAX_REJECTED_IN_SUMMARY),
    });
    const maxMessageBytes = 6000;

    // Act
    const notification = formatNotification(outcome, { maxMessageBytes });

    // Assess
    expect(Buffer.byteLength(JSON.stringify(notification.bodies))).toBeLessThanOrEqual(maxMessageBytes);
    const email = notification.bodies.email ?? '';
    const listed = email.split('\n').filter((line) => line.startsWith('  - nyt line')).length;
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThan(MAX_REJECTED_IN_SUMMARY);
    expect(email).toContain(`  ... and ${(5000 - listed).toLocaleString('en-US')} more`);
  });

  it('keeps a full summary far under 256 KB', () => {
    // Prepare
    const outcome = completed({
      status: 'PARTIAL',
      counts: { inserted: 0, updated: 0, unchanged: 0, rejected: 50 },
      rejectedRows: rejectedRows(50).map((row) => ({ ...row, value: 'v'.repeat(10_000), reason: 'r'.repeat(10_000) })),
    });

    // Act
    const notification = formatNotification(outcome);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(notification.bodies))).toBeLessThan(64 * 1024);
    expect(notification.bodies.email).not.toContain('... and');
  });

  it('names both detail types', () => {
    // Prepare
    const done = outcomeFromEnvelope(completedEvent());
    const broken = outcomeFromEnvelope(failedEvent('x'));

    // Act
    const detailTypes = [done.detailType, broken.detailType];

    // Assess
    expect(detailTypes).toEqual([EventDetailType.RunCompleted, EventDetailType.RunFailed]);
    expect(broken.reason).toBe('x');
  });
});

describe('text helpers', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [5_000, '5 s'],
    [125_000, '2 min 5 s'],
    [120_000, '2 min'],
    [3_725_000, '1 h 2 min 5 s'],
  ])('formats %i ms as "%s"', (ms, expected) => {
    // Act
    const text = formatDuration(ms);

    // Assess
    expect(text).toBe(expected);
  });

  it('transliterates or replaces non-ASCII and flattens control characters', () => {
    // Prepare
    const input = 'Ça “marche” – ﬁne…\u0007\nnext\u00a0line 中文 😀';

    // Act
    const ascii = toAsciiLine(input);

    // Assess
    expect(ascii).toBe('Ca "marche" - fine... next line ?? ?');
  });
});

describe('a HELD run (a data-quality gate tripped)', () => {
  const gates = [
    {
      gate: 'last-date' as const,
      message: "the snapshot's last date 2020-06-03 is earlier than the loaded 2021-03-16",
    },
    { gate: 'missing-dates' as const, message: '286 loaded date(s) are missing from the snapshot' },
  ];
  const reason = 'Held: the snapshot tripped 2 data-quality gate(s): …';

  it('names each gate with its figures and the two commands that decide, in the email and in Slack', () => {
    // Prepare
    const outcome = failed(reason, {
      status: 'HELD',
      environment: 'prod',
      gates,
      counts: { inserted: 0, updated: 0, unchanged: 0, rejected: 0 },
    });

    // Act
    const { subject, bodies } = formatNotification(outcome);

    // Assess
    expect(subject).toMatch(/^\[covid-etl prod\] Run 2026-11-25 HELD: Held: the snapshot tripped 2/);
    expect(bodies.email).toContain('Data-quality gates tripped (2)');
    expect(bodies.email).toContain(`  - last-date: ${gates[0]?.message}`);
    expect(bodies.email).toContain(`  pnpm etl approve ${RUN_ID} --env prod`);
    expect(bodies.email).toContain(`  pnpm etl reject ${RUN_ID} --env prod`);
    const slack = JSON.parse(bodies.lambda ?? '{}') as { status: string; text: string };
    expect(slack.status).toBe('HELD');
    expect(slack.text).toContain('• Gate missing-dates: 286 loaded date(s) are missing from the snapshot');
    expect(slack.text).toContain(`\`pnpm etl approve ${RUN_ID}\``);
  });

  it('never shows the userinfo or query of a source URL', () => {
    // Prepare
    const outcome = failed('nyt: https://u:secret@example.org/us.csv?token=abc answered HTTP 404', {
      sources: [{ id: 'nyt', url: 'https://u:secret@example.org/us.csv?token=abc', sha256: 'a'.repeat(64), bytes: 1 }],
    });

    // Act
    const { subject, bodies } = formatNotification(outcome);

    // Assess
    const all = JSON.stringify({ subject, bodies });
    expect(all).toContain('https://example.org/us.csv');
    expect(all).not.toMatch(/secret|token=abc/);
  });
});

describe('counts per geography level (states and counties)', () => {
  const nation = { inserted: 1, updated: 3, unchanged: 1150, rejected: 0 };
  const state = { inserted: 1234, updated: 12, unchanged: 20_420, rejected: 2 };
  const county = { inserted: 0, updated: 0, unchanged: 97_000, rejected: 1 };
  const withLevels = () =>
    completed({
      status: 'PARTIAL',
      counts: { inserted: 1235, updated: 15, unchanged: 118_570, rejected: 3 },
      levels: { nation, state, county },
      rejections: [
        { level: 'state', source: 'states', rows: 2 },
        { level: 'county', source: 'counties-recent', rows: 1 },
      ],
    });

  it('gives one line per level and the total in the email, and why the run is PARTIAL', () => {
    // Act
    const email = formatNotification(withLevels()).bodies.email ?? '';

    // Assess
    expect(email).toContain('Counts       inserted    updated  unchanged   rejected\n');
    expect(email).toMatch(/\n {2}nation +1 +3 +1,150 +0\n/);
    expect(email).toMatch(/\n {2}state +1,234 +12 +20,420 +2\n/);
    expect(email).toMatch(/\n {2}county +0 +0 +97,000 +1\n/);
    expect(email).toMatch(/\n {2}total +1,235 +15 +118,570 +3\n/);
    expect(email).toContain(
      'Reason:       3 rows rejected: 2 in us-states.csv (state), 1 in us-counties-recent.csv (county); every other row loaded\n',
    );
    expect(email).not.toMatch(/inserted: +/);
    expect(email).toContain(`Rejected rows (3)\n  all of them: \`pnpm etl status ${RUN_ID}\`\n`);
  });

  it('gives one line per level and the total in the Slack text, escaped', () => {
    // Prepare
    const outcome = withLevels();
    outcome.summary.environment = 'dev<&>';

    // Act
    const text = JSON.parse(formatNotification(outcome).bodies.lambda ?? '').text as string;

    // Assess
    const lines = text.split('\n');
    expect(lines[0]).toBe(`*PARTIAL*: run \`${RUN_ID}\` (dev&lt;&amp;&gt;, schedule)`);
    expect(lines.slice(1, 5)).toEqual([
      'Total: 1,235 new, 15 updated, 118,570 unchanged, 3 rejected',
      '• nation: 1 new, 3 updated, 1,150 unchanged, 0 rejected',
      '• state: 1,234 new, 12 updated, 20,420 unchanged, 2 rejected',
      '• county: 0 new, 0 updated, 97,000 unchanged, 1 rejected',
    ]);
    expect(text).toContain(
      'Reason: 3 rows rejected: 2 in us-states.csv (state), 1 in us-counties-recent.csv (county); every other row loaded',
    );
  });

  it('leaves a run of the nation alone as it was: no level line, no total line, no PARTIAL reason', () => {
    // Prepare: a nation-only PARTIAL run (its summary names where the rows came from, but has no levels).
    const outcome = completed({
      status: 'PARTIAL',
      counts: { inserted: 2, updated: 0, unchanged: 10, rejected: 1 },
      rejections: [{ level: 'nation', source: 'jhu', rows: 1 }],
      rejectedRows: [{ source: 'jhu', line: 42, reason: 'Recovered is empty' }],
    });

    // Act
    const notification = formatNotification(outcome);
    const email = notification.bodies.email ?? '';
    const text = JSON.parse(notification.bodies.lambda ?? '').text as string;

    // Assess
    expect(email).toContain(
      '\nCounts\n  inserted:   2\n  updated:    0\n  unchanged:  10\n  rejected:   1\n\nDate range:',
    );
    expect(email).not.toContain('Reason:');
    expect(email).not.toContain('total');
    expect(text.split('\n')[1]).toBe('2 new, 0 updated, 10 unchanged, 1 rejected');
    expect(text).not.toMatch(/Total:|• nation|Reason:/);
  });
});
