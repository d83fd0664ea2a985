import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLocalQueueMessages } from '@covid-etl/local-stack';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/etl.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Runs the real `etl` command (as `pnpm etl` does) in a child process. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, durationMs: Date.now() - started }));
  });
}

/** A fresh local state folder (`ETL_LOCAL_DIR`). */
export function freshStateDir(prefix = 'etl-e2e-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The `.eml` files of a state folder's outbox, oldest first. */
export function outbox(dir: string): string[] {
  try {
    return readdirSync(path.join(dir, 'outbox'))
      .filter((file) => file.endsWith('.eml'))
      .sort()
      .map((file) => path.join(dir, 'outbox', file));
  } catch {
    return [];
  }
}

/** The `Subject:` header of an .eml file (unfolded). */
export function emailSubject(file: string): string {
  const head = readFileSync(file, 'utf8').split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  return decodeEncodedWords(/^Subject: (.*)$/m.exec(unfolded)?.[1] ?? '');
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`), joining adjacent ones. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset: string, encoding: string, text: string) => {
      if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text
        .replace(/_/g, ' ')
        .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    });
}

/** Messages persisted in a local queue's state files (snapshot and change log). */
export function queueMessages(dir: string, queue: string): Array<{ body: string; approximateReceiveCount?: number }> {
  return readLocalQueueMessages(dir, queue);
}
