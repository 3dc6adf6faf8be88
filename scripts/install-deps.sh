#!/usr/bin/env bash
# Installs the Debian packages the gateway needs, only those that are missing.
#   scripts/install-deps.sh run    what `npm start` uses: redis-server, and Kamailio + baresip for the demo PBX
#                                  it starts when no trunk is configured (kamcmd comes with kamailio)
#   scripts/install-deps.sh test   what `npm test` uses: the above plus the real test peers (SIPp, sox, Chromium,
#                                  Kamailio's TLS module, dnsmasq as the DNS server of the SRV tests)
#   scripts/install-deps.sh bench  what `npm run bench` uses: the above plus rtpengine (the reference relay)
set -euo pipefail
mode=${1:-test}
case "$mode" in run|test|bench) ;; *) echo "usage: $0 run|test|bench" >&2; exit 2 ;; esac
need=(redis-server:redis-server kamailio:kamailio kamcmd:kamailio baresip:baresip)
if [ "$mode" != run ]; then
  need+=(sipp:sip-tester sox:sox chromium:chromium dnsmasq:dnsmasq-base)
fi
if [ "$mode" = bench ]; then
  need+=(rtpengine:rtpengine-daemon)
fi
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  # kamailio and kamcmd live in /usr/sbin, which is not on a regular user's PATH
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$pkg")
done
# Kamailio's TLS listener (the SIP-over-TLS tests) is a module of its own package
if [ "$mode" != run ] && ! ls /usr/lib/*/kamailio/modules/tls.so >/dev/null 2>&1; then
  missing+=(kamailio-tls-modules)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u)
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node >= 20.19 is required, found "+process.versions.node); process.exit(1) }'
