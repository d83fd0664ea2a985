#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: chromium (dashboard
# end-to-end test). Terraform and its provider mirror are part of the machine image.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "Missing ${need[*]}: install them (sudo apt-get install ${need[*]}) and run again." >&2
    exit 1
  fi
  echo "installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "chromium: $(chromium --version 2>/dev/null || echo missing)"
