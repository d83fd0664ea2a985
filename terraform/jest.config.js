import preset from '@covid-etl/jest-preset';

export default {
  ...preset,
  // Plans dev and prod offline first when terraform/.plan is missing or stale.
  globalSetup: '<rootDir>/test/global-setup.ts',
  // Reading two ~600 KB plans is quick; planning (in globalSetup) is what takes time.
  testTimeout: 60_000,
};
