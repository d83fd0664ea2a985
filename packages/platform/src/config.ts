import { ConfigurationError } from './errors.js';

type Env = Record<string, string | undefined>;

/**
 * Reads a required environment variable once, at start-up. Throws
 * `Environment variable TABLE_NAME is required` rather than running on a silent default.
 */
export function getStringFromEnv({ key, env = process.env }: { key: string; env?: Env }): string {
  const value = env[key]?.trim();
  if (!value) throw new ConfigurationError(`Environment variable ${key} is required`);
  return value;
}

/** Reads an optional environment variable; `defaultValue` when unset or blank. */
export function getOptionalStringFromEnv({
  key,
  defaultValue,
  env = process.env,
}: {
  key: string;
  defaultValue: string;
  env?: Env;
}): string {
  const value = env[key]?.trim();
  return value ? value : defaultValue;
}

/** Reads a number strictly: `12abc`, `NaN` or a value outside [min, max] throws. */
export function getNumberFromEnv({
  key,
  defaultValue,
  min = Number.NEGATIVE_INFINITY,
  max = Number.POSITIVE_INFINITY,
  env = process.env,
}: {
  key: string;
  defaultValue?: number;
  min?: number;
  max?: number;
  env?: Env;
}): number {
  const raw = env[key]?.trim();
  if (!raw) {
    if (defaultValue === undefined) throw new ConfigurationError(`Environment variable ${key} is required`);
    return defaultValue;
  }
  const value = Number(raw);
  if (!/^-?\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(`Environment variable ${key} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * Fault injection (`ETL_FAULTS`) exists for the local stack's tests and demos only: a
 * deployed function refuses to start with it set.
 */
export function assertNoFaultInjection(env: Env = process.env): void {
  if (env.ETL_FAULTS?.trim()) {
    throw new ConfigurationError(
      `ETL_FAULTS="${env.ETL_FAULTS}" is set: fault injection is refused outside the local environment`,
    );
  }
}
