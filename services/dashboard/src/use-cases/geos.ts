import { type Geo, NATION_GEO_ID, parseGeoId, stateByFips } from '@covid-etl/contracts';
import { defaultGeoName, type GeoCatalogEntry } from '@covid-etl/platform';
import type { CountiesResponse, GeosResponse, GeoView, SeriesResponse } from '../api-types.js';
import type { GeoCatalogSource, GeoSeriesSource } from '../ports.js';
import { BadRequestError, NotFoundError } from '../query.js';
import { SOURCES } from './get-series.js';
import { deriveGeoSeries, sliceRange } from './series.js';

/** The nation as the picker lists it, whether or not the catalogue holds it yet. */
export const NATION_VIEW: GeoView = {
  id: NATION_GEO_ID,
  name: defaultGeoName(NATION_GEO_ID),
  level: 'nation',
  state: null,
  stateName: null,
};

const viewOf = (entry: Pick<GeoCatalogEntry, 'id' | 'name' | 'level' | 'state'>): GeoView => ({
  id: entry.id,
  name: entry.name,
  level: entry.level,
  state: entry.state,
  stateName: entry.state === null ? null : (stateByFips(entry.state)?.name ?? null),
});

/** A `geo` query parameter as a geography; its `GeoIdError` message (one line) becomes the 400. */
export function parseGeoParam(name: string, text: string): Geo {
  try {
    return parseGeoId(text);
  } catch (error) {
    throw new BadRequestError(`${name}: ${(error as Error).message}`);
  }
}

/**
 * Every geography with data, for the picker and its search: the nation first, then each state
 * followed by its counties (one paginated Query of the catalogue, ~3,300 small entries).
 */
export async function listGeos(catalog: GeoCatalogSource): Promise<GeosResponse> {
  const entries = await catalog.listGeos();
  const nation = entries.find((entry) => entry.id === NATION_GEO_ID);
  return {
    geos: [
      { ...NATION_VIEW, lastDate: nation?.lastDate ?? null },
      ...entries
        .filter((entry) => entry.id !== NATION_GEO_ID)
        .map((entry) => ({ ...viewOf(entry), lastDate: entry.lastDate })),
    ],
  };
}

/**
 * A state's or county's series with its daily values and 7-day averages (one Query on
 * `pk = <id>`, one on its catalogue entry for its name). A geography the catalogue does not hold and with no
 * stored day is a 404 saying so.
 */
export async function getGeoSeries(
  deps: { geos: GeoCatalogSource; geoSeries: GeoSeriesSource },
  geo: Geo,
  range: { from?: string; to?: string },
): Promise<SeriesResponse> {
  const [entry, days] = await Promise.all([deps.geos.getGeo(geo.id), deps.geoSeries.query(geo.id)]);
  if (!entry && days.length === 0) {
    throw new NotFoundError(
      `geo: no data for geography ${geo.id} (${defaultGeoName(geo.id)}); see /api/geos for those loaded`,
    );
  }
  const derived = deriveGeoSeries(days);
  const first = derived.points[0];
  const last = derived.points.at(-1);
  return {
    geo: entry
      ? viewOf(entry)
      : viewOf({
          id: geo.id,
          name: defaultGeoName(geo.id),
          level: geo.level,
          state: geo.level === 'nation' ? null : geo.state,
        }),
    from: range.from ?? null,
    to: range.to ?? null,
    available: first && last ? { from: first.date, to: last.date } : null,
    recoveredReportedUntil: null,
    recoveredNotReportedFrom: null,
    series: sliceRange(derived.points, range),
    sources: SOURCES.filter((source) => source.id === 'nyt'),
  };
}

/** A state's counties with their latest values and 7-day averages (one Query on `COUNTIES#<state>`). */
export async function listCounties(catalog: GeoCatalogSource, state: Geo): Promise<CountiesResponse> {
  if (state.level !== 'state') {
    throw new BadRequestError(`state: ${state.id} is a ${state.level}, expected a state FIPS code such as 48`);
  }
  const [entry, summaries] = await Promise.all([catalog.getGeo(state.id), catalog.listCounties(state.id)]);
  return {
    state: viewOf(entry ?? { id: state.id, name: defaultGeoName(state.id), level: 'state', state: state.id }),
    counties: summaries.map(({ id, name, date, cases, deaths, newCases7d, newDeaths7d }) => ({
      id,
      name,
      date,
      cases,
      deaths,
      newCases7d,
      newDeaths7d,
    })),
  };
}
