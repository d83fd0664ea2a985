#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { exportCommand, runsCommand, statusCommand } from './commands/data.js';
import { Output, UsageError } from './commands/output.js';
import { runCommand } from './commands/run.js';
import { FaultSpecError } from './local/faults.js';

// The SDK's notice about future Node versions is not for the CLI's users to act on each run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const envOption = () =>
  new Option('--env <name>', 'environment: local (the embedded local stack) or a deployed one').default('local');

/** Builds the `etl` command line. */
export function buildProgram(): Command {
  const program = new Command('etl')
    .description('covid-etl: run and operate the US COVID-19 ETL pipeline, locally or in AWS')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('run')
    .description('run the pipeline once and wait for the run to finish (all chunks loaded, or parked in a DLQ)')
    .addOption(envOption())
    .option(
      '--nyt-url <url>',
      'NYT us.csv: https URL; locally also a file path, file:// or http://127.0.0.1 (env ETL_NYT_URL)',
    )
    .option('--jhu-url <url>', 'JHU time-series-19-covid-combined.csv, same forms (env ETL_JHU_URL)')
    .option('--json', 'print one JSON object instead of the summary')
    .addHelpText(
      'after',
      '\nExit codes: 0 SUCCEEDED, 2 FAILED, 3 PARTIAL (rows rejected), 4 INCOMPLETE (chunks in a DLQ), 1 usage error.\n' +
        'Local state: ETL_LOCAL_DIR (default .etl-local/). ETL_DYNAMODB_ENDPOINT uses an external DynamoDB.\n' +
        'Fault injection (local only): ETL_FAULTS=<transformer|loader|notifier>=<fail|fail-first|crash-mid-batch>[,...]',
    )
    .action(async (options) => {
      process.exitCode = await runCommand(options, new Output({ quiet: options.json }));
    });

  program
    .command('export')
    .description('print the loaded series in date order')
    .addOption(envOption())
    .addOption(new Option('--format <format>', 'csv or json').default('csv').choices(['csv', 'json']))
    .option('--from <date>', 'first date, YYYY-MM-DD')
    .option('--to <date>', 'last date, YYYY-MM-DD')
    .action(async (options) => {
      process.exitCode = await exportCommand(options, new Output());
    });

  program
    .command('runs')
    .description('list recent runs, newest first')
    .addOption(envOption())
    .option('--limit <n>', 'how many runs', '20')
    .option('--json', 'print JSON')
    .action(async (options) => {
      process.exitCode = await runsCommand(options, new Output());
    });

  program
    .command('status')
    .description('show one run: status, counts, rejected rows, pending chunks')
    .argument('<runId>', 'the run id (see etl runs)')
    .addOption(envOption())
    .option('--json', 'print JSON')
    .action(async (runId, options) => {
      process.exitCode = await statusCommand(runId, options, new Output());
    });

  return program;
}

/** Runs the CLI; known mistakes are printed as one line without a stack trace. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof UsageError || error instanceof FaultSpecError || error instanceof InvalidArgumentError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}

await main();
