import { afterEach, describe, expect, it, jest } from '@jest/globals';

const savedEnv = { ...process.env };

const complete = {
  ETL_ENVIRONMENT: 'dev',
  LEDGER_TABLE: 'covid-etl-dev-ledger',
  EVENT_BUS_NAME: 'covid-etl-dev',
};

/** Loads a fresh copy of handler.ts with exactly these variables set. */
async function importHandlerWith(env: Record<string, string>): Promise<{ handler?: unknown }> {
  jest.resetModules();
  const { ETL_FAULTS: _ignored, STALL_AFTER_MINUTES: _default, ...base } = savedEnv;
  process.env = { ...base, AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', ...env };
  return import('../src/handler.js');
}

afterEach(() => {
  process.env = savedEnv;
});

describe('watchdog configuration (handler.ts)', () => {
  it.each(Object.keys(complete))('fails fast when %s is missing', async (key) => {
    // Prepare
    const env: Record<string, string> = { ...complete };
    delete env[key];

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toThrow(`Environment variable ${key} is required`);
  });

  it.each(['30min', '0', '1441'])('refuses STALL_AFTER_MINUTES="%s"', async (value) => {
    // Act
    const loading = importHandlerWith({ ...complete, STALL_AFTER_MINUTES: value });

    // Assess
    await expect(loading).rejects.toThrow(
      `Environment variable STALL_AFTER_MINUTES must be a number from 1 to 1440, got "${value}"`,
    );
  });

  it('refuses fault injection (ETL_FAULTS) in a deployed function', async () => {
    // Act
    const loading = importHandlerWith({ ...complete, ETL_FAULTS: 'watchdog=fail' });

    // Assess
    await expect(loading).rejects.toThrow('fault injection is refused outside the local environment');
  });

  it('starts with a complete configuration, STALL_AFTER_MINUTES defaulting to 30', async () => {
    // Act
    const module = await importHandlerWith(complete);

    // Assess
    expect(typeof module.handler).toBe('function');
  });
});
