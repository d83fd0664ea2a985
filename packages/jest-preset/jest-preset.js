/**
 * Shared jest preset for every workspace package.
 *
 * The code base is ESM (`"type": "module"`) and several dependencies (middy 7) are ESM-only,
 * so jest runs in its native ESM mode (`NODE_OPTIONS=--experimental-vm-modules`) and
 * TypeScript is stripped by @swc/jest (no type-checking here: `tsc` does that).
 * Test files import `jest`, `describe`, `it`, `expect` from `@jest/globals`.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** @type {import('jest').Config} */
const preset = {
  testEnvironment: require.resolve('./node-environment.js'),
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      require.resolve('@swc/jest'),
      {
        jsc: {
          parser: { syntax: 'typescript' },
          target: 'es2022',
          keepClassNames: true,
          // Keep `with { type: 'json' }` so jest's ESM loader sees the attribute (it warns without it).
          experimental: { keepImportAttributes: true },
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  // `import { x } from './x.js'` in TypeScript sources means `./x.ts`.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30_000,
  reporters: ['default', require.resolve('./summary-reporter.js')],
};

export default preset;
