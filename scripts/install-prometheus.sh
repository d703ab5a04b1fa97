#!/usr/bin/env bash
# Put Prometheus, promtool, Alertmanager and amtool from Debian's packages into
# .cache/prometheus/usr/bin, without installing them system-wide (no service is started,
# nothing listens); Alertmanager's default template goes where Debian's binary looks
# for it. Used by scripts/test.sh; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/prometheus
templates=/usr/share/prometheus/alertmanager

place_templates() {
  # Debian's Alertmanager reads its default notification template from this fixed path.
  [ -f "$templates/default.tmpl" ] && return 0
  if [ -w /usr/share ] ; then
    mkdir -p "$templates"
    cp "$dest/usr/share/prometheus/alertmanager/"*.tmpl "$templates/"
  else
    echo "install-prometheus.sh: $templates/default.tmpl is missing; run once as root" >&2
    return 1
  fi
}

if [ -x "$dest/usr/bin/prometheus" ] && [ -x "$dest/usr/bin/prometheus-alertmanager" ]; then
  place_templates
  exit 0
fi
mkdir -p .cache/debs "$dest"
cd .cache/debs
if ! apt-get download prometheus prometheus-alertmanager >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    apt-get download prometheus prometheus-alertmanager >/dev/null 2>&1
  else
    echo "install-prometheus.sh: cannot download Debian's prometheus packages (run as root once, or apt-get update)" >&2
    exit 1
  fi
fi
for deb in prometheus_*.deb prometheus-alertmanager_*.deb; do
  dpkg-deb -x "$deb" "../prometheus"
done
rm -f ./*.deb
cd ../..
place_templates
