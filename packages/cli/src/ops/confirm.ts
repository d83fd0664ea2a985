import { createInterface } from 'node:readline/promises';
import { NotConfirmedError } from './errors.js';

/** Environments where a replay asks before it moves anything (unless --yes). */
export const PROTECTED_ENVIRONMENTS: readonly string[] = ['prod'];

export interface Prompt {
  /** Whether a person can answer (stdin is a terminal). */
  interactive: boolean;
  ask(question: string): Promise<string>;
}

/** Asks on the terminal: the question on stderr, the answer from stdin. */
export const terminalPrompt: Prompt = {
  interactive: Boolean(process.stdin.isTTY),
  async ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

/**
 * In a protected environment, asks `question` and throws NotConfirmedError unless the answer
 * is yes. `--yes` skips the question; without a terminal (CI, a pipe) and without `--yes` it
 * refuses rather than guess.
 */
export async function confirmChange(
  environment: string,
  { yes, question, what }: { yes?: boolean; question: string; what: string },
  prompt: Prompt = terminalPrompt,
): Promise<void> {
  if (yes || !PROTECTED_ENVIRONMENTS.includes(environment)) return;
  if (!prompt.interactive) {
    throw new NotConfirmedError(
      `Refusing to ${what} in ${environment} without confirmation: there is no terminal to ask on. Add --yes to confirm.`,
    );
  }
  const answer = (await prompt.ask(`${question} [y/N] `)).trim().toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new NotConfirmedError(`Not confirmed: nothing was done`);
}
