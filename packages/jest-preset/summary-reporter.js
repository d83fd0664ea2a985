/**
 * A jest reporter that writes the package's pass/fail counts to
 * `<repo>/test-output/jest-results/<package>.json` (and each suite's wall time), for the CI
 * summary.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const pkg = JSON.parse(readFileSync(path.join(process.cwd(), 'package.json'), 'utf8')).name;
    const dir = path.join(repoRoot, 'test-output', 'jest-results');
    mkdirSync(dir, { recursive: true });
    const failedSuites = results.numFailedTestSuites + (results.numRuntimeErrorTestSuites ?? 0);
    writeFileSync(
      path.join(dir, `${pkg.replace(/[@/]/g, '_')}.json`),
      JSON.stringify({
        package: pkg,
        passed: results.numPassedTests,
        // A suite that failed to run counts as a failure even with no test inside it.
        failed: results.numFailedTests + (failedSuites > 0 && results.numFailedTests === 0 ? failedSuites : 0),
        skipped: results.numPendingTests + results.numTodoTests,
        // Each suite's wall time, for the CI summary's slowest-suites list.
        suites: results.testResults.map((suite) => ({
          file: path.relative(repoRoot, suite.testFilePath),
          seconds: (suite.perfStats.end - suite.perfStats.start) / 1000,
        })),
      }),
    );
  }
}
