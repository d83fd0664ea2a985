import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * A structured JSON logger (pino): one JSON object a line, with `service` on every line and
 * `runId` on every line logged through `logger.child({ runId })`. In Lambda it writes to
 * stdout (CloudWatch); the local stack passes a file destination.
 */
export function createLogger({
  service,
  level = process.env.LOG_LEVEL ?? 'info',
  destination,
}: {
  service: string;
  level?: string;
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that writes nothing (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
