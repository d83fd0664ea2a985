import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dateRange, jhuCsv, nytCsv } from '@covid-etl/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshStateDir, outbox, runCli } from './helpers/cli.js';

/**
 * The real `etl` command where a person meets the edges: a notification that could not be
 * delivered, bad input, a binary file, Ctrl-C. Each answer is one clear line and an exit code.
 */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/etl.mjs');
const NO_STACK = /^\s+at /m;
/** A control character other than a line end or tab, or a replacement character (undecodable bytes). */
const UNPRINTABLE = /[^\P{Cc}\n\r\t]|\uFFFD/u;

let files: { nyt: string; jhu: string; binary: string };

beforeAll(() => {
  const dir = freshStateDir('etl-lifecycle-files-');
  const days = dateRange('2020-03-01', 40);
  files = { nyt: path.join(dir, 'nyt.csv'), jhu: path.join(dir, 'jhu.csv'), binary: path.join(dir, 'binary.csv') };
  writeFileSync(files.nyt, nytCsv(days.map((date, i) => ({ date, cases: 100 + i, deaths: i }))));
  writeFileSync(files.jhu, jhuCsv(days.map((date) => ({ date, recovered: 0 }))));
  writeFileSync(
    files.binary,
    Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 3, 0]),
      Buffer.from(' date\xff\xfe,cases\0\u0001\n1\0,2\n', 'latin1'),
    ]),
  );
});

describe('etl run: a notification parked in the notifier DLQ', () => {
  it('says so, how to replay it, and exits non-zero', async () => {
    // Prepare
    const dir = freshStateDir();

    // Act
    const result = await runCli(['run', '--nyt-url', files.nyt, '--jhu-url', files.jhu], {
      ETL_LOCAL_DIR: dir,
      ETL_FAULTS: 'notifier=fail',
    });

    // Assess
    expect(result.code).toBe(8);
    expect(result.stdout).toMatch(/: SUCCEEDED/);
    expect(result.stderr).toMatch(
      /The notification of run m-\S+ was not delivered: it is parked in covid-etl-local-notifier-dlq .*pnpm etl dlq replay notifier/,
    );
    expect(outbox(dir)).toEqual([]);
  });
});

describe('etl export: dates', () => {
  it.each([
    [['--from', '2020-13-45'], 'error: --from 2020-13-45: expected a calendar date as YYYY-MM-DD'],
    [['--from', '2021-02-30'], 'error: --from 2021-02-30: expected a calendar date as YYYY-MM-DD'],
    [
      ['--from', '2021-03-01', '--to', '2021-02-01'],
      'error: --from 2021-03-01 is after --to 2021-02-01: nothing could match',
    ],
  ])('refuses %j in one line', async (args, message) => {
    // Act
    const result = await runCli(['export', ...args], { ETL_LOCAL_DIR: freshStateDir() });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(message);
  });
});

describe('ETL_LOCAL_DIR that cannot be used', () => {
  it('is one line saying what to do, for run and for the operator commands', async () => {
    // Prepare: a file where the folder should be.
    const file = path.join(freshStateDir(), 'state');
    writeFileSync(file, 'not a folder');

    // Act
    const run = await runCli(['run', '--nyt-url', files.nyt, '--jhu-url', files.jhu], { ETL_LOCAL_DIR: file });
    const runs = await runCli(['runs'], { ETL_LOCAL_DIR: path.join(file, 'below') });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `error: ETL_LOCAL_DIR ${file} cannot be used as the local state folder (a file of that name is in the way): set ETL_LOCAL_DIR to a folder you can write`,
    );
    expect(runs.code).toBe(1);
    expect(runs.stderr.trim()).toMatch(/^error: ETL_LOCAL_DIR .* \(a part of the path is a file\): set ETL_LOCAL_DIR/);
    expect(`${run.stderr}${runs.stderr}`).not.toMatch(NO_STACK);
  });
});

describe('a binary file as a source', () => {
  it('shows printable text only, on the terminal and in the email', async () => {
    // Prepare
    const dir = freshStateDir();

    // Act
    const result = await runCli(['run', '--nyt-url', files.binary, '--jhu-url', files.jhu], { ETL_LOCAL_DIR: dir });

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(
      /failure {4}nyt line 1: required column "date" is missing \(found columns: \?ELF\? date\?, cases\?\)/,
    );
    expect(result.stdout).not.toMatch(UNPRINTABLE);
    const [email] = outbox(dir);
    const body = readFileSync(email as string, 'utf8').replace(/=\r?\n/g, ''); // quoted-printable soft breaks
    expect(body).toContain('found columns: ?ELF?');
    expect(body).not.toMatch(UNPRINTABLE);
  });
});

describe('etl --version', () => {
  it('prints the version', async () => {
    // Act
    const result = await runCli(['--version']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^etl \d+\.\d+\.\d+ \(covid-etl, node v\d+/);
  });
});

describe('Ctrl-C during a local run', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // A source that never answers.
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/us.csv`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('says which run was left unfinished and that the next etl run finishes it', async () => {
    // Prepare
    const dir = freshStateDir();
    const child = spawn(process.execPath, [CLI, 'run', '--nyt-url', url, '--jhu-url', files.jhu], {
      env: { ...process.env, NODE_OPTIONS: '', ETL_LOCAL_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    while (!stderr.includes('Running the pipeline locally')) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));

    // Act: Ctrl-C reaches the whole process group, as from a terminal.
    process.kill(-(child.pid as number), 'SIGINT');
    const code = await exited;
    const next = await runCli(['run', '--json', '--nyt-url', files.nyt, '--jhu-url', files.jhu], {
      ETL_LOCAL_DIR: dir,
    });
    const runs = JSON.parse((await runCli(['runs', '--json'], { ETL_LOCAL_DIR: dir })).stdout) as Array<{
      runId: string;
      status: string;
    }>;

    // Assess
    expect(code).toBe(130);
    const interrupted = /Interrupted: run (m-\S+) was left unfinished\. The next `pnpm etl run` will finish it/.exec(
      stderr,
    );
    expect(interrupted).not.toBeNull();
    expect(stderr).not.toMatch(NO_STACK);
    expect(next.code).toBe(0);
    expect(runs.find((run) => run.runId === interrupted?.[1])?.status).toBe('INCOMPLETE');
  });
});
