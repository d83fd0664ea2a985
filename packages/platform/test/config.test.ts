import { describe, expect, it } from '@jest/globals';
import {
  assertNoFaultInjection,
  ConfigurationError,
  getNumberFromEnv,
  getOptionalStringFromEnv,
  getStringFromEnv,
} from '../src/index.js';

describe('getStringFromEnv', () => {
  it('returns the trimmed value', () => {
    // Prepare
    const env = { DATA_TABLE: '  covid-etl-dev-data ' };

    // Act
    const value = getStringFromEnv({ key: 'DATA_TABLE', env });

    // Assess
    expect(value).toBe('covid-etl-dev-data');
  });

  it.each([
    ['missing', {}],
    ['empty', { DATA_TABLE: '' }],
    ['blank', { DATA_TABLE: '   ' }],
  ])('throws a ConfigurationError naming the variable when it is %s', (_case, env) => {
    // Act
    const read = () => getStringFromEnv({ key: 'DATA_TABLE', env });

    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/^Environment variable DATA_TABLE is required$/);
  });

  it('falls back to the default for an optional variable only when it is unset or blank', () => {
    // Act
    const unset = getOptionalStringFromEnv({ key: 'LOG_LEVEL', defaultValue: 'info', env: {} });
    const blank = getOptionalStringFromEnv({ key: 'LOG_LEVEL', defaultValue: 'info', env: { LOG_LEVEL: ' ' } });
    const set = getOptionalStringFromEnv({ key: 'LOG_LEVEL', defaultValue: 'info', env: { LOG_LEVEL: 'debug' } });

    // Assess
    expect([unset, blank, set]).toEqual(['info', 'info', 'debug']);
  });
});

describe('getNumberFromEnv', () => {
  it('parses plain decimal numbers within the range, and uses the default when unset', () => {
    // Act
    const values = [
      getNumberFromEnv({ key: 'N', env: { N: '30' }, min: 1, max: 1440 }),
      getNumberFromEnv({ key: 'N', env: { N: ' 2.5 ' } }),
      getNumberFromEnv({ key: 'N', env: { N: '-4' } }),
      getNumberFromEnv({ key: 'N', env: {}, defaultValue: 30 }),
      getNumberFromEnv({ key: 'N', env: { N: '1440' }, min: 1, max: 1440 }),
    ];

    // Assess
    expect(values).toEqual([30, 2.5, -4, 30, 1440]);
  });

  it.each(['12abc', 'NaN', 'Infinity', '1e3', '0x10', '', '1,5', '.5'])('refuses "%s" without a default', (raw) => {
    // Act
    const read = () => getNumberFromEnv({ key: 'STALL_AFTER_MINUTES', env: { STALL_AFTER_MINUTES: raw } });

    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(raw === '' ? 'Environment variable STALL_AFTER_MINUTES is required' : `got "${raw}"`);
  });

  it('refuses a value outside [min, max], naming the range', () => {
    // Act
    const read = () =>
      getNumberFromEnv({
        key: 'STALL_AFTER_MINUTES',
        env: { STALL_AFTER_MINUTES: '0' },
        min: 1,
        max: 1440,
        defaultValue: 30,
      });

    // Assess
    expect(read).toThrow('Environment variable STALL_AFTER_MINUTES must be a number from 1 to 1440, got "0"');
  });
});

describe('assertNoFaultInjection', () => {
  it('accepts an environment without ETL_FAULTS (or a blank one)', () => {
    // Act / Assess
    expect(() => assertNoFaultInjection({})).not.toThrow();
    expect(() => assertNoFaultInjection({ ETL_FAULTS: ' ' })).not.toThrow();
  });

  it('refuses ETL_FAULTS in a deployed function', () => {
    // Act
    const check = () => assertNoFaultInjection({ ETL_FAULTS: 'loader=fail' });

    // Assess
    expect(check).toThrow(ConfigurationError);
    expect(check).toThrow('ETL_FAULTS="loader=fail" is set: fault injection is refused outside the local environment');
  });
});
