#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: lint, types, the import
# contract, the rule check, then pytest. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages used by the tests and benchmarks: fail2ban-regex and tshark are benchmark
# peers, tcpreplay replays captures into a test's veth, iproute2 makes the namespaces.
need=()
command -v fail2ban-regex >/dev/null 2>&1 || need+=(fail2ban)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v tcpreplay >/dev/null 2>&1 || need+=(tcpreplay)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "test.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
  fi
fi

# Prometheus, promtool and Alertmanager from Debian's packages, unpacked into .cache/.
scripts/install-prometheus.sh

# Elasticsearch 8.19 (integ-test zip from Maven Central) for the integration tests.
scripts/install-elasticsearch.sh

# CrowdSec 1.4 from Debian's package, unpacked into .cache/ (a peer of bench/bench_sigma.py).
scripts/install-crowdsec.sh

scripts/setup-python.sh test
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff";          ruff check .
echo "== mypy --strict"; mypy
echo "== import contract"; lint-imports
echo "== rules";         ronda rules validate -c config/ronda.yaml
echo "== rule samples";  ronda rules test -c config/ronda.yaml
echo "== pytest";        pytest -q -p no:cacheprovider "$@"
