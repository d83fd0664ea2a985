import { describe, expect, it } from '@jest/globals';
import { formatNotification } from '../src/format.js';
import { formatRevisions } from '../src/revisions.js';
import { runSummary } from './fixtures.js';

const revisions = {
  days: 95,
  from: '2020-03-01',
  to: '2020-06-24',
  largest: [
    { date: '2020-04-16', field: 'deaths' as const, before: 34_621, after: 36_773 },
    { date: '2020-05-01', field: 'cases' as const, before: 1_100_000, after: 1_099_000 },
    { date: '2020-05-02', field: 'cases' as const, before: 10, after: 11 },
    { date: '2020-05-03', field: 'cases' as const, before: 10, after: 11 },
    { date: '2020-05-04', field: 'cases' as const, before: 10, after: 11 },
  ],
};

describe('revised days in the run notification', () => {
  it('names the revised days, their span and the largest change in one line', () => {
    // Act
    const line = formatRevisions(revisions);

    // Assess
    expect(line).toBe(
      '95 revised days, 2020-03-01 to 2020-06-24; largest: 2020-04-16 deaths 34,621 → 36,773 (+2,152), ' +
        '2020-05-01 cases 1,100,000 → 1,099,000 (-1,000), 2020-05-02 cases 10 → 11 (+1), ' +
        '2020-05-03 cases 10 → 11 (+1), 2020-05-04 cases 10 → 11 (+1)',
    );
  });

  it('puts them in the email (one largest change a line) and in the Slack text', () => {
    // Prepare
    const summary = runSummary({ counts: { inserted: 21, updated: 95, unchanged: 30, rejected: 0 }, revisions });

    // Act
    const notification = formatNotification({ detailType: 'EtlRunCompleted', summary });
    const slack = JSON.parse(notification.bodies.lambda as string).text as string;

    // Assess
    expect(notification.bodies.email).toContain('Revised:      95 revised days, 2020-03-01 to 2020-06-24\n');
    expect(notification.bodies.email).toContain('  - 2020-04-16 deaths 34,621 → 36,773 (+2,152)\n');
    expect(notification.bodies.email).toContain(`pnpm etl diff ${summary.runId}`);
    expect(slack).toContain(
      '95 revised days, 2020-03-01 to 2020-06-24; largest: 2020-04-16 deaths 34,621 → 36,773 (+2,152)',
    );
  });

  it('says nothing of revisions for a run that revised no day', () => {
    // Act
    const notification = formatNotification({ detailType: 'EtlRunCompleted', summary: runSummary() });

    // Assess
    expect(notification.bodies.email).not.toContain('Revised');
    expect(notification.bodies.lambda).not.toContain('revised');
  });
});
