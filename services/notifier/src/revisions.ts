import type { Revision, RevisionSummary } from '@covid-etl/contracts';
import { formatCount } from './text.js';

/** `2020-04-16 deaths 34,621 → 36,773 (+2,152)` */
export function formatRevision(revision: Revision): string {
  const change = revision.after - revision.before;
  const sign = change >= 0 ? '+' : '-';
  return `${revision.date} ${revision.field} ${formatCount(revision.before)} → ${formatCount(revision.after)} (${sign}${formatCount(Math.abs(change))})`;
}

/**
 * One line naming a run's revised days, bounded whatever the run's size (the summary carries
 * at most 5 largest changes): `95 revised days, 2020-03-01 to 2020-06-24; largest: 2020-04-16
 * deaths 34,621 → 36,773 (+2,152), …`.
 */
export function formatRevisions(revisions: RevisionSummary): string {
  const days = `${formatCount(revisions.days)} revised ${revisions.days === 1 ? 'day' : 'days'}`;
  const span = revisions.from === revisions.to ? revisions.from : `${revisions.from} to ${revisions.to}`;
  const largest = revisions.largest.map(formatRevision).join(', ');
  return `${days}, ${span}${largest ? `; largest: ${largest}` : ''}`;
}
