import { afterEach, describe, expect, it, jest } from '@jest/globals';

const savedEnv = { ...process.env };

const complete = {
  ETL_ENVIRONMENT: 'dev',
  DATA_TABLE: 'covid-etl-dev-data',
  LEDGER_TABLE: 'covid-etl-dev-ledger',
};

/** Loads a fresh copy of handler.ts with exactly these variables set. */
async function importHandlerWith(env: Record<string, string>): Promise<unknown> {
  jest.resetModules();
  const { ETL_ENVIRONMENT: _e, DATA_TABLE: _d, LEDGER_TABLE: _l, ...base } = savedEnv;
  process.env = { ...base, AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', ...env };
  return import('../src/handler.js');
}

afterEach(() => {
  process.env = savedEnv;
});

describe('dashboard configuration (handler.ts)', () => {
  it.each(['ETL_ENVIRONMENT', 'DATA_TABLE', 'LEDGER_TABLE'])('fails fast when %s is missing', async (key) => {
    // Prepare
    const env: Record<string, string> = { ...complete };
    delete env[key];

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toThrow(`Environment variable ${key} is required`);
  });
});

describe('dashboard configuration (handler.ts), complete', () => {
  it('starts with a complete configuration', async () => {
    // Act
    const module = (await importHandlerWith(complete)) as { handler?: unknown };

    // Assess
    expect(typeof module.handler).toBe('function');
  });

  it('fails fast on a blank DATA_TABLE', async () => {
    // Act
    const loading = importHandlerWith({ ...complete, DATA_TABLE: '  ' });

    // Assess
    await expect(loading).rejects.toThrow('Environment variable DATA_TABLE is required');
  });
});
