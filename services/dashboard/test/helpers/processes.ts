import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '../..');
const CLI = path.join(REPO_ROOT, 'packages/cli/bin/etl.mjs');
/** `pnpm dashboard`: the dashboard's local server, in the local-pipeline composition root (run as a process, not imported). */
export const DASHBOARD_SERVER = path.join(REPO_ROOT, 'packages/local-pipeline/src/dashboard-server.ts');
/** TypeScript entry points run in one node process with tsx's loader (no wrapper process to outlive). */
const TSX_LOADER = ['--import', 'tsx'];

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Promise<Finished> & { output: () => { stdout: string; stderr: string } } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(done, { output: () => ({ stdout, stderr }) });
}

/** Runs the real `etl` command (as `pnpm etl` does) in a child process. */
export function runEtl(args: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child);
}

/** A fresh temporary folder. */
export function freshDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface Served {
  url: string;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<Finished>;
}

/**
 * Starts a TypeScript entry point with tsx (as `pnpm dashboard` does) and waits until it has
 * printed `<label>: <url>` and then `readyText`.
 */
export async function serve(
  entry: string,
  args: string[],
  env: Record<string, string>,
  { label = 'Dashboard', readyText = 'Ctrl-C to stop.', timeoutMs = 60_000 } = {},
): Promise<Served> {
  const child = spawn(process.execPath, [...TSX_LOADER, entry, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = collect(child);
  const pattern = new RegExp(`^${label}: (http://\\S+)`, 'm');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} printed no URL in ${timeoutMs} ms:\n${JSON.stringify(done.output())}`)),
      timeoutMs,
    );
    const check = () => {
      const { stdout } = done.output();
      const match = pattern.exec(stdout);
      if (match?.[1] && stdout.includes(readyText, match.index)) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    done.then((finished) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${entry} exited (${finished.code}) before printing its URL:\n${finished.stdout}\n${finished.stderr}`,
        ),
      );
    }, reject);
  });
  return {
    url,
    output: done.output,
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      // A process that ignores the signal is killed after 10 s: no server outlives the test.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      return done.finally(() => clearTimeout(timer));
    },
  };
}

/** Runs a TypeScript entry point with tsx to its end. */
export function runTs(entry: string, args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const child = spawn(process.execPath, [...TSX_LOADER, entry, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child);
}
