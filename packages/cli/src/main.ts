#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { Output } from './commands/output.js';
import { DEFAULT_GEO_DIFF_LIMIT, MAX_SORTED_GEO_DIFF_DAYS } from './defaults.js';

// Each command's code (the local stack, the AWS SDK clients) is imported when the command runs,
// so `etl --help` and a local run load only what they use (issue 12).
const commands = {
  data: () => import('./commands/data.js'),
  history: () => import('./commands/history.js'),
  run: () => import('./commands/run.js'),
  trust: () => import('./commands/trust.js'),
  abandon: () => import('./ops/abandon.js'),
  dlq: () => import('./ops/dlq.js'),
};

const envOption = () =>
  new Option(
    '--env <name>',
    'environment: local (the embedded local stack) or a deployed one (a folder of terraform/environments)',
  ).default('local');

const jsonOption = () => new Option('--json', 'print JSON on stdout (progress stays on stderr)');

const DEPLOYED_HELP =
  '\nDeployed environments: resources come from `terraform -chdir=terraform/environments/<env> output -json operator_config`,\n' +
  'else from the SSM parameter /covid-etl/<env>/operator-config; credentials and region from the standard AWS chain\n' +
  '(AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, …).';

/** Builds the `etl` command line. */
export function buildProgram(): Command {
  const program = new Command('etl')
    .description('covid-etl: run and operate the US COVID-19 ETL pipeline, locally or in AWS')
    .version(cliVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('run')
    .description(
      'run the pipeline once: locally, wait for the run to finish (all chunks loaded, or parked in a DLQ); deployed, invoke the fetcher (and follow the run with --wait)',
    )
    .addOption(envOption())
    .option(
      '--nyt-url <url>',
      'NYT us.csv: https URL; locally also a file path, file:// or http://127.0.0.1 (env ETL_NYT_URL)',
    )
    .option('--jhu-url <url>', 'JHU time-series-19-covid-combined.csv, same forms (env ETL_JHU_URL)')
    .option(
      '--levels <levels>',
      "geography levels this run loads, comma-joined: nation,state,county (default: the environment's; locally nation)",
    )
    .option(
      '--backfill <what>',
      'counties: read the full us-counties.csv instead of the recent one (needs county in --levels)',
    )
    .option('--states-url <url>', 'NYT us-states.csv, same forms (env ETL_STATES_URL)')
    .option(
      '--counties-url <url>',
      'NYT us-counties.csv, read by --backfill counties, same forms (env ETL_COUNTIES_URL)',
    )
    .option(
      '--counties-recent-url <url>',
      'NYT us-counties-recent.csv, read by a county run without backfill, same forms (env ETL_COUNTIES_RECENT_URL)',
    )
    .option('--wait', 'deployed: follow the run in the ledger until it ends (a local run always waits)')
    .option('--timeout <minutes>', 'deployed, with --wait: give up following after this long', '45')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExit codes: 0 SUCCEEDED (or started, deployed without --wait), 2 FAILED, 3 PARTIAL (rows rejected),\n' +
        '4 INCOMPLETE (chunks in a DLQ), 5 still RUNNING when --wait timed out, 6 HELD (a data-quality gate\n' +
        "tripped: nothing loaded; see etl approve / etl reject), 7 REJECTED, 8 (local) the run's notification\n" +
        'is parked in the notifier DLQ, 1 usage or AWS error.\n' +
        'Local state: ETL_LOCAL_DIR (default .etl-local/). ETL_DYNAMODB_ENDPOINT uses an external DynamoDB;\n' +
        "ETL_LOCAL_DB_MAX_OPEN_FILES (74-50000) caps the embedded one's open table files: less memory, slower.\n" +
        'Fault injection (local only): ETL_FAULTS=<transformer|loader|notifier>=<fail|fail-first|crash-mid-batch>[,...];\n' +
        "the loader also takes crash-at-days-written and crash-at-catalogue-updated (around a geo part's catalogue update)." +
        DEPLOYED_HELP,
    )
    .action(async (options) => {
      process.exitCode = await (await commands.run()).runCommand(options, new Output({ quiet: options.json }));
    });

  program
    .command('export')
    .description('print the loaded series of the nation, a state or a county in date order')
    .addOption(envOption())
    .addOption(new Option('--format <format>', 'csv or json').default('csv').choices(['csv', 'json']))
    .option('--from <date>', 'first date, YYYY-MM-DD')
    .option('--to <date>', 'last date, YYYY-MM-DD')
    .option(
      '--geo <id>',
      'one geography: US (default), a state FIPS (48), a county FIPS (48201) or 36-nyc, 29-kansas-city, 29-joplin, <state>-unknown; states and counties print date,cases,deaths (deaths empty where not reported)',
    )
    .option(
      '--as-of <runId>',
      'the series (of the nation, or of the --geo state or county) as it stood right after this run finished (time travel)',
    )
    .addOption(new Option('--json', 'the same as --format json'))
    .action(async (options) => {
      process.exitCode = await (await commands.data()).exportCommand(options, { out: new Output() });
    });

  program
    .command('runs')
    .description('list recent runs, newest first: status, stage, chunks loaded, counts, DLQs holding their messages')
    .addOption(envOption())
    .option('--limit <n>', 'how many runs (1 to 1000)', '20')
    .addOption(jsonOption())
    .addHelpText('after', DEPLOYED_HELP)
    .action(async (options) => {
      process.exitCode = await (await commands.data()).runsCommand(options, { out: new Output() });
    });

  program
    .command('status')
    .description(
      'show one run: status, stage, counts, pending chunks (stage, last error, the DLQ holding them), rejected rows with reasons',
    )
    .argument('<runId>', 'the run id (see etl runs)')
    .addOption(envOption())
    .option('--trips <n|all>', 'states and counties listed per tripped gate and level (all: every one)', '20')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nA run that tripped data-quality gates on states or counties (HELD, or approved or rejected since) lists,\n' +
        'under each gate line, the geographies that tripped it, by gate and level, most severe first (the largest\n' +
        'fall or revision, share revised, dates missing or days behind), one line each with name, id and figures;\n' +
        '20 per gate and level, then "… and N more" (--trips all lists every one; --json has the full list as\n' +
        'geoTrips).' +
        DEPLOYED_HELP,
    )
    .action(async (runId, options) => {
      process.exitCode = await (await commands.data()).statusCommand(runId, options, { out: new Output() });
    });

  program
    .command('abandon')
    .description(
      'close a run that will not finish (RUNNING, INCOMPLETE, HELD) as ABANDONED, with one EtlRunFailed; its late chunks are dropped',
    )
    .argument('<runId>', 'the run id (see etl runs)')
    .addOption(envOption())
    .option('--reason <text>', 'why, for the notification and the ledger')
    .option('--yes', 'do not ask for confirmation (asked in prod)')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nIdempotent: abandoning an abandoned run changes nothing (exit 0); a run that ended otherwise is left\nalone (exit 1).' +
        DEPLOYED_HELP,
    )
    .action(async (runId, options) => {
      process.exitCode = await (await commands.abandon()).abandonCommand(runId, options, { out: new Output() });
    });

  program
    .command('history')
    .description('every version of one day, oldest first, with the run that wrote it')
    .argument('<date>', 'the day, YYYY-MM-DD')
    .addOption(envOption())
    .option(
      '--geo <id>',
      "one geography's day: US (default), a state FIPS (48), a county FIPS (48201) or 36-nyc, 29-kansas-city, 29-joplin, <state>-unknown",
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nA state or county prints cases and deaths (deaths "not reported" where the publisher gave none); with --json,\n' +
        'one object per version, {geo, date, runId, at, change, before, after} (deaths null: not reported).' +
        DEPLOYED_HELP,
    )
    .action(async (date, options) => {
      process.exitCode = await (await commands.history()).historyCommand(date, options, { out: new Output() });
    });

  program
    .command('diff')
    .description(
      'the days one run inserted or updated (the nation, the states, the counties), old → new with the change in each value, largest changes first',
    )
    .argument('<runId>', 'the run id (see etl runs)')
    .addOption(envOption())
    .option(
      '--limit <n>',
      `show only the n largest changes of each level, or all (default: all of the nation's, the ${DEFAULT_GEO_DIFF_LIMIT} largest of the states' and of the counties'; --json: all)`,
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nA run that changed states or counties lists them after the nation, one group per level (--limit applies to each).\n' +
        'With --json: one object per day, {date, change: inserted|updated|deleted, before, after} (before is null\n' +
        "for an insert, after for a day a revert removed); a state's or county's day also has geo and level (state,\n" +
        'county), and deaths null where not reported.\n' +
        `Sorting more than ${MAX_SORTED_GEO_DIFF_DAYS.toLocaleString('en-US')} days of states and counties (--json, --limit all or a larger\n` +
        '--limit, on a full county backfill) is refused before anything is read: use --limit <n>.' +
        DEPLOYED_HELP,
    )
    .action(async (runId, options) => {
      process.exitCode = await (await commands.history()).diffCommand(runId, options, { out: new Output() });
    });

  program
    .command('revert')
    .description(
      'put every day a run changed (nation, states, counties) back to its value before the run (days it inserted are removed), as a new run (trigger revert)',
    )
    .argument('<runId>', 'the run to revert (see etl runs, etl diff)')
    .addOption(envOption())
    .option('--yes', 'do not ask for confirmation (asked in prod)')
    .option('--force', 'revert even the days a later run changed since (they are named otherwise, and nothing is done)')
    .option('--timeout <minutes>', 'deployed: follow the revert run this long at most', '15')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nThe revert is run r-… (derived from the reverted run id): counted, versioned and announced like any run.\n' +
        'Interrupted, run the command again: it resumes the same run; once it finished, it does nothing.\n' +
        'The source baselines go back to the last successful run before the reverted one, and the reverted months and\n' +
        'state/county days are compared with the table again by the next run. --json: restored days and removed days\n' +
        'per level (restored.nation/state/county). Exit codes: 0 reverted (or nothing to do), 2 the revert\n' +
        'run did not succeed, 5 still running (deployed, after --timeout), 1 refused or usage error.' +
        DEPLOYED_HELP,
    )
    .action(async (runId, options) => {
      process.exitCode = await (await commands.history()).revertCommand(runId, options, {
        out: new Output({ quiet: options.json }),
      });
    });

  for (const action of ['approve', 'reject'] as const) {
    program
      .command(action)
      .description(
        action === 'approve'
          ? 'load exactly the snapshot of a HELD run (one that tripped a data-quality gate), as if the gates had passed'
          : 'end a HELD run as REJECTED: its snapshot is never loaded, the table and baselines stay as they are',
      )
      .argument('<runId>', 'the HELD run (see etl runs)')
      .addOption(envOption())
      .option('--yes', 'do not ask for confirmation (asked in prod)')
      .addOption(jsonOption())
      .addHelpText(
        'after',
        '\nFirst shows (on stderr, not with --json) the gates the HELD run tripped and the states and counties that\n' +
          'tripped them, 20 per gate and level, most severe first (every one: pnpm etl status <runId> --trips all).\n' +
          `Idempotent: ${action === 'approve' ? 'approving' : 'rejecting'} a run already ${
            action === 'approve' ? 'approved' : 'rejected'
          } only shows it. See docs/runbooks/held-run.md.${DEPLOYED_HELP}`,
      )
      .action(async (runId, options) => {
        process.exitCode = await (await commands.trust()).decideCommand(action, runId, options, {
          out: new Output({ quiet: options.json }),
        });
      });
  }

  const dlq = program
    .command('dlq')
    .description('inspect and replay the dead-letter queues')
    .addHelpText(
      'after',
      "\n<queue> is transformer, loader or notifier (that queue's DLQ), in AWS also events, fetcher_schedule,\n" +
        'counties_backfill_schedule (where scheduled), watchdog_schedule or async, or a full DLQ name. See docs/runbooks/.',
    );

  dlq
    .command('list')
    .description('every DLQ of the environment with its depth and the age of its oldest message')
    .addOption(envOption())
    .addOption(jsonOption())
    .addHelpText('after', DEPLOYED_HELP)
    .action(async (options) => {
      process.exitCode = await (await commands.dlq()).dlqListCommand(options, { out: new Output() });
    });

  dlq
    .command('peek')
    .description(
      'show the messages of a DLQ without consuming them: run id, month, receive count, first receive, last recorded error',
    )
    .argument('<queue>', 'transformer|loader|notifier|… or a full DLQ name')
    .addOption(envOption())
    .option('--max <n>', 'how many messages (1 to 1000)', '10')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nIn AWS the messages are received with a 10 s visibility timeout and handed back at once (visibility 0);\n' +
        'their receive count goes up by one.' +
        DEPLOYED_HELP,
    )
    .action(async (queue, options) => {
      process.exitCode = await (await commands.dlq()).dlqPeekCommand(queue, options, { out: new Output() });
    });

  dlq
    .command('replay')
    .description("move a DLQ's messages back to their source queue (locally, then let the runs finish)")
    .argument('<queue>', 'transformer|loader|notifier|… or a full DLQ name')
    .addOption(envOption())
    .option('--rate <n>', 'AWS: messages per second of the SQS move task, 1 to 500 (default: chosen by SQS)')
    .option('--run <runId>', "move only this run's messages (receive, send, delete: one at a time)")
    .option('--dry-run', 'show what would move and move nothing')
    .option('--yes', 'do not ask for confirmation (asked in prod)')
    .option('--cancel', 'AWS: cancel the move task running on this DLQ')
    .option('--timeout <minutes>', 'AWS: stop following the move task after this long (it goes on)', '60')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nAWS: a whole-DLQ replay is one SQS message move task (StartMessageMoveTask, messages return to their\n' +
        'source queue), followed until it ends; a task already running is followed instead. --run moves messages\n' +
        'one at a time (send, then delete: a crash may duplicate a message, never lose one). Exit code 0 when\n' +
        'the move completed, 1 otherwise.' +
        DEPLOYED_HELP,
    )
    .action(async (queue, options) => {
      process.exitCode = await (await commands.dlq()).dlqReplayCommand(queue, options, { out: new Output() });
    });

  return program;
}

/** `etl <version> (node <version>)`: the CLI package's version. */
function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return `etl ${pkg.version} (covid-etl, node ${process.version})`;
}

/** Runs the CLI; known mistakes are printed as one line without a stack trace. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    // Imported here, when there is an error: the classes live in packages a command may not load.
    const { isCallersMistake } = await import('./known-errors.js');
    if (isCallersMistake(error)) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    // Not a mistake of the caller's: a bug. The stack is for the report.
    process.stderr.write(
      `error: ${error instanceof Error ? error.message : String(error)}\n` +
        'This is a bug in covid-etl: please report it with the command you ran and the details below.\n' +
        `${error instanceof Error ? (error.stack ?? '') : ''}\n`,
    );
    process.exitCode = 1;
  }
}

await main();
