#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs every check and test:
# lint + format, type-check, reproducible build, Terraform (fmt, validate, offline plan) and
# all jest suites. Usage: bash scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
# pnpm 10: corepack where it works, else a global npm install, else a local one (no root needed).
if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != 10.* ]]; then
  if ! (corepack enable >/dev/null 2>&1 && [[ "$(pnpm --version 2>/dev/null)" == 10.* ]]); then
    if ! npm install -g pnpm@10 >/dev/null 2>&1; then
      npm install --prefix "$root/.tools" pnpm@10 >/dev/null
      export PATH="$root/.tools/node_modules/.bin:$PATH"
    fi
  fi
fi
echo "node $(node --version), pnpm $(pnpm --version)"

step "install (frozen lockfile)"
pnpm install --frozen-lockfile --reporter=append-only | tail -n 3

step "system packages"
bash scripts/ci/system-packages.sh

step "lint and format (biome)"
pnpm exec biome ci --colors=off .

step "type-check"
pnpm typecheck --output-logs=errors-only

step "build, twice: the zips must be byte-for-byte identical"
bash scripts/ci/check-reproducible-build.sh

step "terraform: fmt, validate, offline plan"
bash scripts/ci/terraform-check.sh

step "tests"
rm -rf "$root/test-output/jest-results"
status=0
pnpm test --concurrency=1 --output-logs=full || status=$?
node scripts/ci/test-summary.mjs "$root/test-output/jest-results"
exit $status
