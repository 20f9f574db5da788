#!/usr/bin/env bash
# Installs what xnode's demo and tests need on a fresh Debian machine (run as
# root): the network tools the lab and the probes run, Redis, kubectl, and the
# npm dependencies. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package providing it
declare -A pkg=(
  [ip]=iproute2 [bridge]=iproute2 [iptables]=iptables [iptables-save]=iptables
  [ping]=iputils-ping [curl]=curl [openssl]=openssl [redis-server]=redis-server [redis-cli]=redis-tools [redis-sentinel]=redis-sentinel [sysctl]=procps [gcc]=gcc [tcpdump]=tcpdump [nft]=nftables
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

# Node.js 24 LTS (package.json engines): the npm registry ships it as the
# node-linux-<arch> package, a plain binary with no install script. Installed
# beside the machine's own Node, linked into /usr/local/bin (ahead of /usr/bin
# on PATH), so npm and every script then run on it.
NODE_MAJOR=24
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt "$NODE_MAJOR" ]; then
  command -v npm >/dev/null 2>&1 || { echo "setup: npm is missing: install Debian's nodejs and npm packages first"; exit 1; }
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "setup: no Node.js $NODE_MAJOR package for $(uname -m)"; exit 1 ;; esac
  echo "setup: Node.js $(node --version 2>/dev/null || echo none) is older than $NODE_MAJOR; installing node-linux-$arch@$NODE_MAJOR"
  dir=/opt/xnode-node$NODE_MAJOR
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-save --no-audit --no-fund --no-package-lock "node-linux-$arch@$NODE_MAJOR" >/dev/null)
  ln -sf "$dir/node_modules/node-linux-$arch/bin/node" /usr/local/bin/node
  hash -r
fi
[ "$(node_major)" -ge "$NODE_MAJOR" ] || { echo "setup: node on PATH is $(node --version), not $NODE_MAJOR: put /usr/local/bin before /usr/bin in PATH"; exit 1; }
echo "setup: Node.js $(node --version) at $(command -v node)"

# The Redis the bot, the workers and the tests use; start it if it is down.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "setup: starting redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/xnode.log
  for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

npm ci --no-audit --no-fund
