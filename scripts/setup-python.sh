#!/usr/bin/env bash
# Create .venv and install Ronda into it (editable, so rules/ and config/ ship with it).
# Usage: scripts/setup-python.sh [EXTRAS]      e.g. scripts/setup-python.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv 2>/dev/null || {
    # Debian ships venv separately.
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-venv; fi
    python3 -m venv .venv
  }
fi
spec="."
[ -n "$extras" ] && spec=".[${extras}]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
