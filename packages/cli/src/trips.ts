import { GateName, printable } from '@covid-etl/contracts';
import type { HeldGeoTrip } from '@covid-etl/platform';
import { UsageError } from './commands/output.js';

/** Trips of one gate and level that `etl status` and `etl approve` list before "… and N more". */
export const DEFAULT_TRIPS_SHOWN = 20;

/** `--trips <n|all>`: how many trips of each gate and level to list (`all`: every one). */
export function parseTripsShown(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TRIPS_SHOWN;
  if (value.trim().toLowerCase() === 'all') return Number.POSITIVE_INFINITY;
  if (!/^\d{1,7}$/.test(value.trim())) {
    throw new UsageError(`--trips ${value}: expected a number of trips per gate (0 or more) or "all"`);
  }
  return Number(value.trim());
}

type Level = HeldGeoTrip['level'];

/** The trips of one gate on one level, most severe first. */
export interface TripGroup {
  gate: GateName;
  level: Level;
  trips: HeldGeoTrip[];
}

const LEVELS: readonly Level[] = ['state', 'county'];
const LEVEL_NAMES: Record<Level, string> = { state: 'states', county: 'counties' };

/** What "most severe first" means for each gate, as the header of its list says it. */
const ORDER_NAMES: Record<GateName, string> = {
  'last-date': 'most days behind first',
  'missing-dates': 'most dates missing first',
  'missing-geographies': 'most dates absent first',
  'cumulative-fall': 'largest fall first',
  'revised-down': 'largest revision first',
  'revised-share': 'largest share first',
};

const number = (n: number) => n.toLocaleString('en-US');
const count = (text: string) => Number(text.replaceAll(',', ''));
const DAY_MS = 86_400_000;

/**
 * How severe one trip is, read from the figures of its message (the fetcher's `GeoGateTrip`
 * wording, after the geography's label): the count lost for `cumulative-fall` and
 * `revised-down` (`cases 129,000 on … → 1,000 on …`), the share revised for `revised-share`,
 * the number of dates for `missing-dates` and `missing-geographies` (`absent on 30 loaded
 * date(s)`), the days behind for `last-date`. Undefined when the
 * message has no such figure (it then sorts after the others, in the order kept).
 */
export function tripSeverity(trip: HeldGeoTrip): number | undefined {
  const label = trip.message.indexOf(`(${trip.geo})`);
  const colon = label >= 0 ? trip.message.indexOf(': ', label) : -1;
  const figures = colon >= 0 ? trip.message.slice(colon + 2) : trip.message;
  let match: RegExpMatchArray | null;
  switch (trip.gate) {
    case 'cumulative-fall':
    case 'revised-down':
      match = figures.match(/([\d,]+)(?: on \d{4}-\d{2}-\d{2})? → ([\d,]+)/);
      return match ? count(match[1] as string) - count(match[2] as string) : undefined;
    case 'revised-share':
      match = figures.match(/\((\d+(?:\.\d+)?)%\)/);
      return match ? Number(match[1]) : undefined;
    case 'missing-dates':
    case 'missing-geographies':
      match = figures.match(/([\d,]+) loaded date/);
      return match ? count(match[1] as string) : undefined;
    case 'last-date':
      match = figures.match(/(\d{4}-\d{2}-\d{2}) is earlier than the loaded (\d{4}-\d{2}-\d{2})/);
      return match ? (Date.parse(match[2] as string) - Date.parse(match[1] as string)) / DAY_MS : undefined;
  }
}

/**
 * The trips grouped by gate (in the gates' order) and level (states, then counties), each group
 * most severe first (see `tripSeverity`; ties and unreadable figures keep the order kept).
 */
export function groupTrips(trips: readonly HeldGeoTrip[]): TripGroup[] {
  const groups: TripGroup[] = [];
  for (const gate of GateName.options) {
    for (const level of LEVELS) {
      const list = trips
        .filter((trip) => trip.gate === gate && trip.level === level)
        .map((trip, index) => ({ trip, index, severity: tripSeverity(trip) }))
        .sort(
          (a, b) =>
            (b.severity ?? Number.NEGATIVE_INFINITY) - (a.severity ?? Number.NEGATIVE_INFINITY) || a.index - b.index,
        )
        .map(({ trip }) => trip);
      if (list.length > 0) groups.push({ gate, level, trips: list });
    }
  }
  return groups;
}

/** Every trip in the order `etl status` lists them: by gate and level, most severe first. */
export function sortTrips(trips: readonly HeldGeoTrip[]): HeldGeoTrip[] {
  return groupTrips(trips).flatMap((group) => group.trips);
}

/** One trip, one line: its message (which names the geography and its id), printable. */
function tripLine(trip: HeldGeoTrip): string {
  const message = printable(trip.message);
  return message.includes(trip.geo) ? message : `${printable(trip.geo)}: ${message}`;
}

/**
 * The per-geography trips of a held run as `etl status` and `etl approve` show them: for each
 * gate and level a header (`  trips      cumulative-fall (counties): 1,234 counties, largest
 * fall first`), then at most `shown` trips, one line each, then `… and N more: <command>`.
 * Nothing when there are no trips (a run whose gates tripped on the nation alone).
 */
export function formatTrips(
  trips: readonly HeldGeoTrip[],
  { shown = DEFAULT_TRIPS_SHOWN, runId, environment }: { shown?: number; runId: string; environment: string },
): string[] {
  const env = environment === 'local' ? '' : ` --env ${environment}`;
  return groupTrips(trips).flatMap(({ gate, level, trips: list }) => {
    const perState = gate === 'last-date' || gate === 'missing-dates' || level === 'state';
    const unit = perState ? (list.length === 1 ? 'state' : 'states') : list.length === 1 ? 'county' : 'counties';
    const lines = [
      `  trips      ${gate} (${LEVEL_NAMES[level]}): ${number(list.length)} ${unit}, ${ORDER_NAMES[gate]}`,
      ...list.slice(0, shown).map((trip) => `    ${tripLine(trip)}`),
    ];
    const more = list.length - Math.min(shown, list.length);
    if (more > 0) lines.push(`    … and ${number(more)} more: pnpm etl status ${runId} --trips all${env}`);
    return lines;
  });
}
