import { gzipSync } from 'node:zlib';
import { type Clock, type HandlerOptions, type Logger, silentLogger, systemClock } from '@covid-etl/platform';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { GeoView } from './api-types.js';
import { CONTENT_SECURITY_POLICY, error, ok, type Result } from './http.js';
import { renderPage } from './page.js';
import type { DashboardDeps } from './ports.js';
import {
  BadRequestError,
  CountiesQuery,
  HistoryQuery,
  NoQuery,
  NotFoundError,
  parseQuery,
  SeriesQuery,
} from './query.js';
import { getGeoSeries, listCounties, listGeos, NATION_VIEW, parseGeoParam } from './use-cases/geos.js';
import { getSeries, SOURCES } from './use-cases/get-series.js';
import { getStatus } from './use-cases/get-status.js';
import { getHistory, latestRevisions } from './use-cases/revisions.js';

export { DataUnavailableError } from './errors.js';
export type {
  DashboardDeps,
  GeoCatalogSource,
  GeoSeriesSource,
  RunReader,
  SeriesReader,
  VersionReader,
  WebAssets,
} from './ports.js';

/** What the API answers are cached for: the data changes at most once a day. */
const API_CACHE = 'public, max-age=300';
const IMMUTABLE = 'public, max-age=31536000, immutable';

type Route = (event: APIGatewayProxyEventV2) => Promise<Result> | Result;

/**
 * The dashboard's Lambda handler for a function URL (payload format 2.0):
 * - `GET /`: the page; `GET /assets/app.js`, `app.css`, `favicon.svg`: the bundled front-end;
 * - `GET /api/series?geo=<id>&from=YYYY-MM-DD&to=YYYY-MM-DD`: a series with daily values and
 *   7-day averages, recoveries null where not reported (`SeriesResponse`); `geo` absent or `US`
 *   is the national series as before geographies, anything else one Query on `pk = <id>`
 *   (an id `parseGeoId` rejects: 400 with its message; one with no data: 404);
 * - `GET /api/geos`: the catalogue for the picker (`GeosResponse`);
 * - `GET /api/counties?state=<FIPS>`: a state's counties, latest values and 7-day averages
 *   (`CountiesResponse`, one Query);
 * - `GET /api/status`: the latest run and how fresh the data is (`StatusResponse`);
 * - `GET /api/history?date=YYYY-MM-DD`: every version of one day (`HistoryResponse`).
 * The series answer carries the days the latest completed run revised (`revised`).
 * Bad query parameters get 400 with `{ error }` naming the parameter and value; an unknown path
 * 404; a method other than GET or HEAD 405. The tables are read with Query only (no Scan).
 * Unexpected errors are logged and answered 500 without internals.
 */
export function createHandler(deps: DashboardDeps, options: HandlerOptions = {}) {
  const clock: Clock = deps.clock ?? systemClock;
  const logger: Logger = deps.logger ?? silentLogger();
  const html = renderPage({ environment: deps.environment, version: deps.assets.version, sources: SOURCES });
  // Static bodies are compressed once per container, not per request.
  const lazyGzip = (text: string) => {
    let zipped: Buffer | undefined;
    return () => {
      zipped ??= gzipSync(text, { level: 9 });
      return zipped;
    };
  };
  const gz = { html: lazyGzip(html), js: lazyGzip(deps.assets.js), css: lazyGzip(deps.assets.css) };
  const assetCache = (event: APIGatewayProxyEventV2) =>
    event.queryStringParameters?.v === deps.assets.version ? IMMUTABLE : 'public, max-age=300';

  const geoDeps = () => {
    if (!deps.geos || !deps.geoSeries) throw new BadRequestError('states and counties are not available here');
    return { geos: deps.geos, geoSeries: deps.geoSeries };
  };

  const routes: Record<string, Route> = {
    '/': (event) =>
      ok(event, {
        contentType: 'text/html; charset=utf-8',
        body: html,
        gzipped: gz.html(),
        cacheControl: 'no-cache',
        extraHeaders: { 'content-security-policy': CONTENT_SECURITY_POLICY },
      }),
    '/assets/app.js': (event) =>
      ok(event, {
        contentType: 'text/javascript; charset=utf-8',
        body: deps.assets.js,
        gzipped: gz.js(),
        cacheControl: assetCache(event),
      }),
    '/assets/app.css': (event) =>
      ok(event, {
        contentType: 'text/css; charset=utf-8',
        body: deps.assets.css,
        gzipped: gz.css(),
        cacheControl: assetCache(event),
      }),
    '/assets/favicon.svg': (event) =>
      ok(event, { contentType: 'image/svg+xml', body: deps.assets.favicon, cacheControl: assetCache(event) }),
    '/api/series': async (event) => {
      const { geo: geoText, ...query } = parseQuery(SeriesQuery, event.queryStringParameters);
      const geo = geoText === undefined ? undefined : parseGeoParam('geo', geoText);
      if (geo && geo.level !== 'nation') {
        return json(event, await getGeoSeries(geoDeps(), geo, query));
      }
      // The revised days only decorate the charts: an index that cannot be read (still being
      // created after a deploy) leaves them out rather than failing the series.
      const revisions = latestRevisions(deps).catch((caught: unknown) => {
        logger.warn({ err: caught }, 'could not read the latest revisions');
        return null;
      });
      const [body, revised] = await Promise.all([getSeries(deps.series, query), revisions]);
      const nation: { geo?: GeoView } = geo ? { geo: NATION_VIEW } : {};
      return json(event, { ...nation, ...body, revised });
    },
    '/api/geos': async (event) => {
      parseQuery(NoQuery, event.queryStringParameters);
      return json(event, await listGeos(geoDeps().geos));
    },
    '/api/counties': async (event) => {
      const { state } = parseQuery(CountiesQuery, event.queryStringParameters);
      return json(event, await listCounties(geoDeps().geos, parseGeoParam('state', state)));
    },
    '/api/history': async (event) => {
      const { date } = parseQuery(HistoryQuery, event.queryStringParameters);
      if (!deps.versions) throw new BadRequestError('the history of days is not available here');
      return json(event, await getHistory(deps.versions, date));
    },
    '/api/status': async (event) => {
      parseQuery(NoQuery, event.queryStringParameters);
      const body = await getStatus({ ...deps, now: clock.now() });
      return json(event, body, 'no-cache');
    },
  };

  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route)
      return error(
        404,
        `no such path: ${path}; try / or /api/series, /api/geos, /api/counties?state=48, /api/status or /api/history?date=YYYY-MM-DD`,
      );
    if (method !== 'GET' && method !== 'HEAD') {
      return error(405, `method ${method} is not allowed on ${path}: use GET`, { allow: 'GET, HEAD' });
    }
    try {
      return await route(event);
    } catch (caught) {
      if (caught instanceof BadRequestError) return error(400, caught.message);
      if (caught instanceof NotFoundError) return error(404, caught.message);
      if (caught instanceof Error && caught.name === 'DataUnavailableError') {
        return error(503, caught.message, { 'retry-after': '5' });
      }
      logger.error({ err: caught, path, requestId: event.requestContext.requestId }, 'dashboard request failed');
      return error(500, `could not read the data (request ${event.requestContext.requestId}); try again later`);
    }
  };

  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
    timeoutEarlyInMillis: options.timeoutEarlyInMillis ?? 5,
  }).handler(handle);
}

function json(event: APIGatewayProxyEventV2, body: unknown, cacheControl = API_CACHE): Result {
  return ok(event, { contentType: 'application/json; charset=utf-8', body: JSON.stringify(body), cacheControl });
}
