import { SOURCE_LABELS } from '@covid-etl/contracts';
import type { SeriesResponse, SourceAttribution } from '../api-types.js';
import type { SeriesReader } from '../ports.js';
import { deriveSeries, sliceRange } from './series.js';

/** Who publishes the data, for the page's footer and every API answer that carries the data. */
export const SOURCES: SourceAttribution[] = [
  {
    id: 'nyt',
    name: 'The New York Times',
    provides: 'cases and deaths',
    licence: 'CC BY-NC 4.0',
    url: 'https://github.com/nytimes/covid-19-data',
  },
  {
    id: 'jhu',
    name: SOURCE_LABELS.jhu,
    provides: 'recoveries',
    licence: 'CC BY 4.0 (Johns Hopkins CSSE); ODC-PDDL (datasets/covid-19)',
    url: 'https://github.com/datasets/covid-19',
  },
];

/**
 * The series between `from` and `to` with its daily values and 7-day averages. Reads the whole
 * national series with one paginated Query (about 1,200 items at most: one per day), because
 * the daily values and averages at the start of a range need the days before it, and the
 * "recoveries not reported" boundary is a property of the whole series, not of the range.
 */
export async function getSeries(series: SeriesReader, range: { from?: string; to?: string }): Promise<SeriesResponse> {
  const records = await series.query({});
  const derived = deriveSeries(records);
  const first = derived.points[0];
  const last = derived.points.at(-1);
  return {
    from: range.from ?? null,
    to: range.to ?? null,
    available: first && last ? { from: first.date, to: last.date } : null,
    recoveredReportedUntil: derived.recoveredReportedUntil,
    recoveredNotReportedFrom: derived.recoveredNotReportedFrom,
    series: sliceRange(derived.points, range),
    sources: SOURCES,
  };
}
