/**
 * Jest global setup: makes sure `terraform/.plan/<env>.json` exist and are newer than every
 * Terraform file, else runs the offline plan (`scripts/ci/terraform-check.sh --plan-only`),
 * so `pnpm --filter @covid-etl/terraform test` works on its own. The plan needs the service
 * zips: the script says "run pnpm build first" when they are missing.
 *
 * Self-contained on purpose: jest loads this file outside the test module system.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ENVIRONMENTS = ['dev', 'prod'];

/** Newest modification time (ms) of the inputs of the plan: .tf/.tfvars/.hcl files and the script. */
function newestInput(terraformDir: string, checkScript: string): number {
  let newest = statSync(checkScript).mtimeMs;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '.terraform' || entry.name === 'examples') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(tf|tfvars|hcl)$/.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  walk(path.join(terraformDir, 'modules'));
  walk(path.join(terraformDir, 'environments'));
  return newest;
}

export default function globalSetup(globalConfig: { rootDir: string }): void {
  const terraformDir = globalConfig.rootDir;
  const repoRoot = path.resolve(terraformDir, '..');
  const checkScript = path.join(repoRoot, 'scripts', 'ci', 'terraform-check.sh');
  const newest = newestInput(terraformDir, checkScript);
  const stale = ENVIRONMENTS.filter((env) => {
    const file = path.join(terraformDir, '.plan', `${env}.json`);
    return !existsSync(file) || statSync(file).mtimeMs < newest;
  });
  if (stale.length === 0) return;
  console.log(`\nterraform/.plan: ${stale.join(', ')} missing or older than the .tf files; planning offline…`);
  execFileSync('bash', [checkScript, '--plan-only'], { cwd: repoRoot, stdio: 'inherit' });
}
