#!/usr/bin/env bash
# Installs what xnode's demo and tests need on a fresh Debian machine (run as
# root): the network tools the lab and the probes run, Redis, kubectl, and the
# npm dependencies. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package providing it
declare -A pkg=(
  [ip]=iproute2 [bridge]=iproute2 [iptables]=iptables [iptables-save]=iptables
  [ping]=iputils-ping [curl]=curl [openssl]=openssl [redis-server]=redis-server [redis-cli]=redis-tools [sysctl]=procps [gcc]=gcc
)
missing=()
for cmd in "${!pkg[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg[$cmd]}")
done
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t unique < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing ${unique[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${unique[@]}" \
    || echo "setup: apt-get could not install everything (${unique[*]}); see above"
fi
for cmd in "${!pkg[@]}" kubectl; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "setup: '$cmd' is still missing"; exit 1; }
done

# The Redis the bot, the workers and the tests use; start it if it is down.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "setup: starting redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/xnode.log
  for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

npm ci --no-audit --no-fund
