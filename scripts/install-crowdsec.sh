#!/usr/bin/env bash
# Put CrowdSec (crowdsec + cscli, with the offline hub snapshot and its data files) from
# Debian's package into .cache/crowdsec, without installing it system-wide: no service, no
# /etc/crowdsec, nothing listens. It is only the peer of bench/bench_sigma.py, which builds
# its own config dir from bench/crowdsec/ and replays a file with `crowdsec -dsn ... -no-api`.
# Optional: if the package cannot be had, says so and exits 0 (the benchmark then prints
# "CrowdSec: not runnable here"). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/crowdsec

if [ -x "$dest/usr/bin/crowdsec" ] && [ -d "$dest/usr/share/crowdsec/hub" ]; then
  exit 0
fi
mkdir -p .cache/debs
cd .cache/debs
rm -f crowdsec_*.deb
if ! apt-get download crowdsec >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq || true
  fi
  if ! apt-get download crowdsec >/dev/null 2>&1; then
    echo "install-crowdsec.sh: cannot download Debian's crowdsec package" \
         "(needs Debian bookworm's apt sources; run as root once for apt-get update);" \
         "skipping: the Sigma benchmark runs without the CrowdSec peer" >&2
    exit 0
  fi
fi
rm -rf "../crowdsec"
mkdir -p "../crowdsec"
dpkg-deb -x crowdsec_*.deb "../crowdsec"
rm -f crowdsec_*.deb
echo "install-crowdsec.sh: crowdsec $(../crowdsec/usr/bin/crowdsec -version 2>&1 | sed -n "s/.*version: //p" | head -1) in $dest"
