import { afterEach, describe, expect, it, jest } from '@jest/globals';

const savedEnv = { ...process.env };

const complete = {
  ETL_ENVIRONMENT: 'dev',
  LEDGER_TABLE: 'covid-etl-dev-ledger',
  TRANSFORMER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/covid-etl-dev-transformer',
  EVENT_BUS_NAME: 'covid-etl-dev',
  NYT_URL: 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv',
  JHU_URL: 'https://raw.githubusercontent.com/datasets/covid-19/main/data/time-series-19-covid-combined.csv',
  DATA_TABLE: 'covid-etl-dev-data',
};

/** Loads a fresh copy of handler.ts with exactly these variables set. */
async function importHandlerWith(env: Record<string, string>): Promise<{ handler?: unknown }> {
  jest.resetModules();
  const { ETL_FAULTS: _ignored, ...base } = savedEnv;
  process.env = { ...base, AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', ...env };
  return import('../src/handler.js');
}

afterEach(() => {
  process.env = savedEnv;
});

describe('fetcher configuration (handler.ts)', () => {
  it.each(Object.keys(complete))('fails fast when %s is missing', async (key) => {
    // Prepare
    const env: Record<string, string> = { ...complete };
    delete env[key];

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toThrow(`Environment variable ${key} is required`);
  });

  it('refuses fault injection (ETL_FAULTS) in a deployed function', async () => {
    // Prepare
    const env = { ...complete, ETL_FAULTS: 'fetcher=fail' };

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('fault injection is refused outside the local environment'),
    });
  });

  it('starts with a complete configuration', async () => {
    // Act
    const module = await importHandlerWith(complete);

    // Assess
    expect(typeof module.handler).toBe('function');
  });

  it.each([
    [
      'GEO_LEVELS',
      'nation,town',
      'Environment variable GEO_LEVELS: geography levels "nation,town" name unknown level(s) town',
    ],
    ['MAX_SOURCE_BYTES', '64MB', 'Environment variable MAX_SOURCE_BYTES must be a number'],
  ])('fails fast with one line on a bad %s', async (key, value, message) => {
    // Act
    const loading = importHandlerWith({ ...complete, [key]: value });

    // Assess
    await expect(loading).rejects.toThrow(message);
  });
});
