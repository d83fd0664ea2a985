#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs every check and test:
# lint + format, type-check, reproducible build, Terraform (fmt, validate, offline plan) and
# all jest suites. Usage: bash scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Each step's heading says when it started (seconds since the script did), so a slow step shows.
step() { printf '\n==> %s (at %ds)\n' "$*" "$SECONDS"; }

step "toolchain"
# Node.js 22+: the machine's node when it is recent enough, else the npm registry's node@22
# package in .tools/node22 (no root needed; installed once, reused by later runs).
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if (( $(node_major) < 22 )); then
  node22="$root/.tools/node22"
  if [[ ! -x "$node22/node_modules/.bin/node" ]]; then
    echo "node $(node --version 2>/dev/null || echo missing) is older than 22: installing node@22 into .tools/node22"
    npm install --prefix "$node22" --no-save --no-audit --no-fund --loglevel=error node@22 >/dev/null
  fi
  export PATH="$node22/node_modules/.bin:$PATH"
fi
# pnpm 10: the machine's when it answers 10.x, else corepack's where it works, else a local one in
# .tools (no root needed). Each is checked by running it: corepack can enable a shim that then
# fails (a registry that serves no signatures), and it is disabled again; a global npm install
# is not tried, as its prefix follows the node it runs on (.tools/node22 here, not on PATH).
pnpm_10() { [[ "$(pnpm --version 2>/dev/null)" == 10.* ]]; }
if ! pnpm_10; then
  if corepack enable pnpm >/dev/null 2>&1; then
    hash -r
    if ! pnpm_10; then
      corepack disable pnpm >/dev/null 2>&1 || true
      hash -r
    fi
  fi
fi
if ! pnpm_10; then
  if [[ ! -x "$root/.tools/node_modules/.bin/pnpm" ]]; then
    npm install --prefix "$root/.tools" --no-save --no-audit --no-fund --loglevel=error pnpm@10 >/dev/null
  fi
  export PATH="$root/.tools/node_modules/.bin:$PATH"
  pnpm_10 || { echo "pnpm 10 could not be installed (corepack, then npm into .tools)" >&2; exit 1; }
fi
# pnpm's scripts must run on that node too, not on the one pnpm was installed with.
if [[ "$(pnpm exec node -p 'process.versions.node.split(".")[0]')" -lt 22 ]]; then
  echo "pnpm runs scripts on node $(pnpm exec node --version); Node.js 22+ is required" >&2
  exit 1
fi
echo "node $(node --version), pnpm $(pnpm --version)"

step "install (frozen lockfile)"
pnpm install --frozen-lockfile --reporter=append-only | tail -n 3

step "system packages"
bash scripts/ci/system-packages.sh

step "lint and format (biome)"
pnpm exec biome ci --colors=off .

step "layers: only the composition roots use services"
node scripts/ci/check-layers.mjs

step "type-check"
# The dashboard's generated page assets and its page and tests (DOM library), then one tsc program
# over every package (the root tsconfig.json: each file checked once, ~25 s where a program per
# package took ~70 s).
pnpm typecheck

step "build, twice: the zips must be byte-for-byte identical"
bash scripts/ci/check-reproducible-build.sh

step "terraform: fmt, validate, offline plan"
bash scripts/ci/terraform-check.sh

step "benchmarks, once at a small size (no thresholds: they must keep working)"
pnpm bench --size small

step "tests"
# Two packages at a time: each jest runs one worker, so one package alone left a core idle.
# --force: turbo's cache would replay earlier logs without running jest (and without the counts).
rm -rf "$root/test-output/jest-results"
status=0
pnpm test --force --concurrency=2 --output-logs=full || status=$?
node scripts/ci/test-summary.mjs "$root/test-output/jest-results"
echo "all steps: ${SECONDS}s"
exit $status
