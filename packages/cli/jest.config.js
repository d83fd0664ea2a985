import preset from '@covid-etl/jest-preset';

export default { ...preset, globalSetup: '<rootDir>/test/helpers/global-setup.mjs' };
