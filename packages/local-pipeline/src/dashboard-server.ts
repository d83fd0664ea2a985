/**
 * `pnpm dashboard`: serves the dashboard locally from the local stack's tables, through the
 * same `createHandler` the Lambda function URL runs. See `--help`.
 */
import { parseArgs } from 'node:util';
import { createHandler } from '@covid-etl/dashboard';
import { buildWebAssets } from '@covid-etl/dashboard/web-build';
import { startFunctionUrlServer } from '@covid-etl/local-stack';
import { createLogger } from '@covid-etl/platform';
import { DashboardTables } from './dashboard-tables.js';
import { LOCAL_ENVIRONMENT, localStateDir } from './paths.js';

const DEFAULT_PORT = 8787;

const HELP = `Usage: pnpm dashboard [--port <n>]

Serves the dashboard on http://127.0.0.1:<port>/ from the local stack's tables
(ETL_LOCAL_DIR, default .etl-local/ at the repository root): the page, GET /api/series
and GET /api/status, through the same handler as the deployed function URL.

Options:
  -p, --port <n>  port on 127.0.0.1 (default: $PORT, else ${DEFAULT_PORT}; 0 picks a free one)
  -h, --help      show this help

Load the data first with "pnpm etl run". The embedded database is opened only while
the dashboard reads it, so "pnpm etl run" can run while the dashboard is up.`;

class UsageError extends Error {}

function parsePort(raw: string, from: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) throw new UsageError(`${from} must be a port from 0 to 65535, got "${raw}"`);
  return port;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', short: 'p' }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port =
    values.port !== undefined
      ? parsePort(values.port, '--port')
      : process.env.PORT?.trim()
        ? parsePort(process.env.PORT.trim(), 'PORT')
        : DEFAULT_PORT;
  const dir = localStateDir();

  const assets = await buildWebAssets();
  const tables = new DashboardTables(dir);
  const handler = createHandler({
    series: tables.series,
    ledger: tables.ledger,
    versions: tables.versions,
    geos: tables.geos,
    geoSeries: tables.geoSeries,
    environment: LOCAL_ENVIRONMENT,
    assets,
    logger: createLogger({
      service: 'dashboard',
      level: 'warn',
      destination: { write: (line: string) => process.stderr.write(line) },
    }),
  });

  let server: Awaited<ReturnType<typeof startFunctionUrlServer>>;
  try {
    server = await startFunctionUrlServer({ handler, port });
  } catch (error) {
    await tables.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`Port ${port} on 127.0.0.1 is in use: pass --port <n> (or PORT=<n>), or 0 for a free one`);
    }
    throw error;
  }

  console.log(`Dashboard: ${server.url}`);
  try {
    const records = await tables.series.query({});
    const first = records[0];
    const last = records.at(-1);
    if (first && last) {
      console.log(`  data: ${records.length} days, ${first.date} to ${last.date}, from ${dir}`);
    } else {
      console.log(`  No data yet in ${dir}: run "pnpm etl run" first, then reload the page.`);
    }
  } catch (error) {
    console.log(`  Cannot read the data yet: ${(error as Error).message}`);
  }
  console.log('  Ctrl-C to stop.');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.exit(130);
    }
    stopping = true;
    Promise.all([server.close(), tables.close()])
      .then(() => {
        console.log(`\nDashboard stopped (${signal}).`);
        process.exit(0);
      })
      .catch((error: unknown) => {
        console.error('Could not stop cleanly:', error);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
    console.error(`${error.message}\n\nRun with --help for the options.`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
