import { geoSeriesAsOf, seriesAsOf } from '@covid-etl/platform';
import type { CommandDeps } from '../ops/dlq.js';
import { withBackend } from '../ops/open.js';
import { buildRunReport, formatRunReport, formatRunsTable, locateParkedMessages } from '../ops/report.js';
import { parseTripsShown } from '../trips.js';
import { parseGeoOption, withVersionIndex } from './history.js';
import { UsageError } from './output.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `value` is a real calendar date written YYYY-MM-DD (2021-02-30 and 2020-13-45 are not). */
export function isCalendarDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/**
 * `etl export`: the loaded series of the nation in date order, as CSV
 * (`date,cases,deaths,recovered`) or JSON; with `asOf`, the series as it stood right after that
 * run finished. With `geo` (a state or county id), that geography's series (`date,cases,deaths`,
 * deaths empty where not reported; one Query on `pk = <geo>`), with `asOf` as it stood then
 * (`geoSeriesAsOf`); `--geo US` is the nation.
 */
export async function exportCommand(
  options: { env: string; format: string; from?: string; to?: string; json?: boolean; asOf?: string; geo?: string },
  deps: CommandDeps,
): Promise<number> {
  const format = options.json ? 'json' : options.format;
  if (format !== 'csv' && format !== 'json') {
    throw new UsageError(`--format ${options.format}: expected csv or json`);
  }
  const geo = options.geo === undefined ? undefined : parseGeoOption(options.geo);
  for (const [flag, value] of [
    ['--from', options.from],
    ['--to', options.to],
  ] as const) {
    if (value !== undefined && !isCalendarDate(value))
      throw new UsageError(`${flag} ${value}: expected a calendar date as YYYY-MM-DD`);
  }
  if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
    throw new UsageError(`--from ${options.from} is after --to ${options.to}: nothing could match`);
  }
  const inRange = (date: string) => (!options.from || date >= options.from) && (!options.to || date <= options.to);
  if (geo && geo.level !== 'nation') {
    const id = geo.id;
    const days = await withBackend(
      options.env,
      async (backend) =>
        options.asOf
          ? (
              await withVersionIndex(() =>
                geoSeriesAsOf(
                  { ledger: backend.ledger, versions: backend.series.versions, geoSeries: backend.geoSeries },
                  id,
                  options.asOf as string,
                ),
              )
            ).filter((day) => inRange(day.date))
          : backend.geoSeries.query(id, { from: options.from, to: options.to }),
      deps.open,
    );
    if (format === 'json') deps.out.result(days.map(({ date, cases, deaths }) => ({ date, cases, deaths })));
    else
      deps.out.result(['date,cases,deaths', ...days.map((d) => `${d.date},${d.cases},${d.deaths ?? ''}`)].join('\n'));
    return 0;
  }
  const records = await withBackend(
    options.env,
    async (backend) =>
      options.asOf
        ? (await withVersionIndex(() => seriesAsOf(backend, options.asOf as string))).filter((r) => inRange(r.date))
        : backend.series.query({ from: options.from, to: options.to }),
    deps.open,
  );
  if (format === 'json') {
    deps.out.result(records.map(({ date, cases, deaths, recovered }) => ({ date, cases, deaths, recovered })));
  } else {
    const lines = [
      'date,cases,deaths,recovered',
      ...records.map((r) => `${r.date},${r.cases},${r.deaths},${r.recovered}`),
    ];
    deps.out.result(lines.join('\n'));
  }
  return 0;
}

/**
 * `etl runs`: recent runs, newest first, with status, stage, chunks loaded / expected,
 * counts, and the DLQs holding their parked messages.
 */
export async function runsCommand(
  options: { env: string; json?: boolean; limit: string },
  deps: CommandDeps,
): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`--limit ${options.limit}: expected 1 to 1000`);
  return withBackend(
    options.env,
    async (backend) => {
      const runs = await backend.listRuns(limit);
      const parked = runs.length > 0 ? await locateParkedMessages(backend) : new Map();
      const reports = [];
      for (const run of runs) reports.push(await buildRunReport(backend, run, parked));
      if (options.json) {
        deps.out.result(reports);
      } else if (reports.length === 0) {
        deps.out.result(
          `No runs yet. Start one with: pnpm etl run${backend.environment === 'local' ? '' : ` --env ${backend.environment}`}`,
        );
      } else {
        deps.out.result(formatRunsTable(reports));
      }
      return 0;
    },
    deps.open,
  );
}

/**
 * `etl status <runId>`: one run in detail: status, stage, counts, pending chunks with their
 * stage, last error and the DLQ that holds them, every rejected row with its reason, and (a run
 * that tripped gates) the states and counties that tripped, `--trips` per gate and level
 * (default 20; `--json` has every one).
 */
export async function statusCommand(
  runId: string,
  options: { env: string; json?: boolean; trips?: string },
  deps: CommandDeps,
): Promise<number> {
  const tripsShown = parseTripsShown(options.trips);
  return withBackend(
    options.env,
    async (backend) => {
      const run = await backend.ledger.getRun(runId);
      if (!run) {
        throw new UsageError(
          `No run ${runId} in the ledger of ${backend.environment} (see pnpm etl runs${backend.environment === 'local' ? '' : ` --env ${backend.environment}`})`,
        );
      }
      const chunks = await backend.ledger.listChunks(runId);
      const report = await buildRunReport(backend, run, await locateParkedMessages(backend), chunks);
      deps.out.result(options.json ? report : formatRunReport(report, backend.environment, undefined, tripsShown));
      return 0;
    },
    deps.open,
  );
}
