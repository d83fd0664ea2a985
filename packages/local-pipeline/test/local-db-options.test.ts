import { ConfigurationError } from '@covid-etl/platform';
import { describe, expect, it } from '@jest/globals';
import { localDbMaxOpenFiles } from '../src/index.js';

describe('ETL_LOCAL_DB_MAX_OPEN_FILES', () => {
  it("reads a whole number from 74 to 50000, and leaves LevelDB's default when unset or blank", () => {
    // Act / Assess
    expect(localDbMaxOpenFiles({ ETL_LOCAL_DB_MAX_OPEN_FILES: '74' })).toBe(74);
    expect(localDbMaxOpenFiles({ ETL_LOCAL_DB_MAX_OPEN_FILES: ' 300 ' })).toBe(300);
    expect(localDbMaxOpenFiles({})).toBeUndefined();
    expect(localDbMaxOpenFiles({ ETL_LOCAL_DB_MAX_OPEN_FILES: '  ' })).toBeUndefined();
  });

  it.each(['12', '73', '50001', '1e3', '100.5', 'many', '-100'])(
    'refuses "%s" in one line, as a configuration mistake',
    (raw) => {
      // Act
      const read = () => localDbMaxOpenFiles({ ETL_LOCAL_DB_MAX_OPEN_FILES: raw });

      // Assess
      expect(read).toThrow(ConfigurationError);
      expect(read).toThrow(`ETL_LOCAL_DB_MAX_OPEN_FILES must be a whole number from 74 to 50000, got "${raw}"`);
    },
  );
});
