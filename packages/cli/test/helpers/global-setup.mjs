// Before the tests spawn `bin/etl.mjs`: bring the bundle up to date once, so that no test's
// stderr carries the launcher's "building" line.
import { ensureBundle } from '../../bin/bundle-freshness.mjs';

export default function buildCli() {
  ensureBundle();
}
