#!/usr/bin/env bash
# Install the Debian packages condorweb's dev pool, browser tests and service
# tests need, when they are missing. Needs root on Debian or Ubuntu; anywhere
# else it says what is missing and leaves the decision to the caller.
set -euo pipefail

# The user `make run` runs the console as when started by root (devtools/run.py).
if [ "$(id -u)" -eq 0 ] && ! getent passwd condorweb >/dev/null; then
  echo "condorweb: creating the system user condorweb, which the console runs as under make run"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin condorweb
fi

packages=(debootstrap chromium redis-server postgresql)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "condorweb: missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})." >&2
  exit 0
fi
echo "condorweb: installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
