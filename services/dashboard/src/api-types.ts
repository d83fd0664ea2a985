/**
 * The JSON the dashboard API answers: shared by the server (`src/`) and the page (`src/web/`).
 * Types only, so the front-end bundle takes nothing from the server side.
 */

/** One day of a geography's series (the nation's by default) with its derived daily values. */
export interface SeriesPoint {
  /** `YYYY-MM-DD` */
  date: string;
  /** Cumulative cases (The New York Times). */
  cases: number;
  /** Cumulative deaths (The New York Times); null where not reported (Puerto Rico's municipios). */
  deaths: number | null;
  /** Cumulative recoveries (Johns Hopkins CSSE, nation only); null where not reported (always for states and counties). */
  recovered: number | null;
  /** Cases minus the previous day's; null on the first day and after a gap in the dates. */
  newCases: number | null;
  newDeaths: number | null;
  /** Mean of the last 7 daily values (this day included, 1 decimal); null until 7 daily values exist. */
  newCases7d: number | null;
  newDeaths7d: number | null;
}

/** Where a data set comes from and under which licence. */
export interface SourceAttribution {
  id: 'nyt' | 'jhu';
  name: string;
  provides: string;
  licence: string;
  url: string;
}

/** A geography as the catalogue names it. */
export interface GeoView {
  /** `US`, a state FIPS (`48`), a county FIPS (`48201`) or an area without one (`36-nyc`). */
  id: string;
  name: string;
  level: 'nation' | 'state' | 'county';
  /** State FIPS of a state or county; null for the nation. */
  state: string | null;
  /** The name of that state; null for the nation. */
  stateName: string | null;
}

/** `GET /api/series[?geo=<id>][&from=YYYY-MM-DD&to=YYYY-MM-DD]` */
export interface SeriesResponse {
  /** The geography, when `geo` was asked for (absent: the national series, as before geographies). */
  geo?: GeoView;
  /** The range asked for (null when open); `series` holds the stored days inside it. */
  from: string | null;
  to: string | null;
  /** First and last date stored in the table; null when the table is empty. */
  available: { from: string; to: string } | null;
  /** Last date whose recovered count is reported (not null); null when the table is empty. */
  recoveredReportedUntil: string | null;
  /** First date from which recoveries are not reported (shown as null); null when reported to the end. */
  recoveredNotReportedFrom: string | null;
  series: SeriesPoint[];
  sources: SourceAttribution[];
  /** The days the latest completed run revised, with their values before it; null when none. */
  revised?: RevisedDays | null;
}

/** The values of a day. */
export interface DayValues {
  cases: number;
  deaths: number;
  recovered: number;
}

/** The days one run revised (updated): the charts mark them, the tooltip says what they were. */
export interface RevisedDays {
  runId: string;
  /** The day the run finished, `YYYY-MM-DD`. */
  on: string;
  /** Date → the values before the run. */
  days: Record<string, DayValues>;
}

/** `GET /api/history?date=YYYY-MM-DD`: every version of one day, oldest first. */
export interface HistoryResponse {
  date: string;
  versions: Array<{
    runId: string;
    at: string;
    change: 'inserted' | 'updated' | 'deleted';
    before: DayValues | null;
    after: DayValues | null;
  }>;
}

/** A pipeline run as the status endpoint shows it. */
export interface RunView {
  runId: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'PARTIAL' | 'FAILED' | 'INCOMPLETE' | 'HELD' | 'REJECTED' | 'ABANDONED';
  trigger: 'schedule' | 'manual' | 'revert';
  startedAt: string;
  finishedAt: string | null;
  /** What the run did to the data table; null while it runs. */
  counts: { inserted: number; updated: number; unchanged: number; rejected: number } | null;
  failure: string | null;
  note: string | null;
}

/** `GET /api/status` */
export interface StatusResponse {
  environment: string;
  /** When this answer was made (ISO 8601). */
  now: string;
  /** The most recently started run; null when the ledger has none. */
  latestRun: RunView | null;
  /** The most recent SUCCEEDED run among the latest ones read; null when there is none. */
  lastSuccessfulRun: { runId: string; finishedAt: string | null } | null;
  /** What the data table holds; null when it is empty. */
  data: {
    firstDate: string;
    lastDate: string;
    days: number;
    /** When a run last inserted or updated a day (ISO 8601). */
    lastChangedAt: string | null;
  } | null;
}

/** `GET /api/geos`: every geography with data, the nation first, then states each followed by their counties. */
export interface GeosResponse {
  geos: Array<GeoView & { lastDate: string | null }>;
}

/** One row of a state's county table. */
export interface CountyRow {
  id: string;
  name: string;
  /** The county's latest date and its cumulative values. */
  date: string;
  cases: number;
  deaths: number | null;
  /** 7-day averages of new cases and deaths ending on `date`; null until 8 days are stored. */
  newCases7d: number | null;
  newDeaths7d: number | null;
}

/** `GET /api/counties?state=<state FIPS>`: the state's counties with their latest values. */
export interface CountiesResponse {
  state: GeoView;
  counties: CountyRow[];
}

/** Every error answer: one sentence a person can act on. */
export interface ErrorResponse {
  error: string;
}
