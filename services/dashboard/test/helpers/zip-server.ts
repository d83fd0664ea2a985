/**
 * Serves the handler of a built Lambda bundle (the `index.mjs` taken out of
 * dist/dashboard.zip) over HTTP with the local function URL adapter, for the end-to-end test.
 * Usage: tsx test/helpers/zip-server.ts <path/to/index.mjs>; configuration from the
 * environment as in Lambda (DATA_TABLE, LEDGER_TABLE, ETL_ENVIRONMENT,
 * AWS_ENDPOINT_URL_DYNAMODB for a local DynamoDB). Prints `Bundle: <url>`.
 */
import { pathToFileURL } from 'node:url';
import { type FunctionUrlHandler, startFunctionUrlServer } from '@covid-etl/local-stack';

const bundle = process.argv[2];
if (!bundle) throw new Error('usage: zip-server.ts <index.mjs>');
const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: FunctionUrlHandler };
const server = await startFunctionUrlServer({ handler, port: 0, functionName: 'dashboard-bundle' });
console.log(`Bundle: ${server.url}`);
console.log('Ctrl-C to stop.');
process.on('SIGINT', () => {
  void server.close().then(() => process.exit(0));
});
