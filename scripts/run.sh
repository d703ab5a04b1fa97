#!/usr/bin/env bash
# Install Ronda and start the daemon on the shipped default config (config/ronda.yaml).
# Alerts go to the local SQLite store; no Elasticsearch needed. Extra arguments go to
# `ronda run`, e.g.  scripts/run.sh -c /etc/ronda/ronda.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
exec .venv/bin/ronda run "$@"
