#!/usr/bin/env bash
# Builds every service twice from scratch (no turbo cache) and fails unless each zip, and each
# full source map kept beside it (dist/<name>.maps/), has the same sha256 both times.
set -euo pipefail
cd "$(dirname "$0")/../.."
digests() {
  find services \( -path '*/dist/*.zip' -o -path '*/dist/*.maps/*.map' \) -not -path '*/bundle/*' \
    -not -path '*/node_modules/*' -print0 | sort -z | xargs -0 sha256sum
}
pnpm build --force --output-logs=new-only | grep -E 'dist/.*\.(zip|maps/)' || true
first=$(digests)
pnpm build --force --output-logs=none
second=$(digests)
if [[ "$first" != "$second" ]]; then
  echo "The zips or source maps differ between two builds:" >&2
  diff <(echo "$first") <(echo "$second") >&2 || true
  exit 1
fi
echo "$(echo "$first" | wc -l) zips and source maps reproducible:"
echo "$first"
