/** A mistake in how a command was called: printed without a stack, exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Where commands write: results to stdout, progress to stderr (redrawn in place on a
 * terminal, throttled lines otherwise, nothing with `--json` or `quiet`).
 */
export class Output {
  private lastProgressAt = 0;
  private transientShown = false;

  constructor(
    private readonly options: {
      quiet?: boolean;
      stdout?: NodeJS.WritableStream;
      stderr?: NodeJS.WriteStream | NodeJS.WritableStream;
    } = {},
  ) {}

  result(value: unknown): void {
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    (this.options.stdout ?? process.stdout).write(`${text}\n`);
  }

  progress(message: string, { transient = false, done = false }: { transient?: boolean; done?: boolean } = {}): void {
    if (this.options.quiet) return;
    const stderr = this.options.stderr ?? process.stderr;
    const tty = 'isTTY' in stderr && stderr.isTTY;
    if (transient && tty) {
      stderr.write(`\r\x1b[2K${done ? '' : message}`);
      this.transientShown = !done;
      return;
    }
    if (done) return;
    if (transient) {
      const now = Date.now();
      if (now - this.lastProgressAt < 2000) return;
      this.lastProgressAt = now;
    } else if (this.transientShown) {
      stderr.write('\r\x1b[2K');
      this.transientShown = false;
    }
    stderr.write(`${message}\n`);
  }
}
