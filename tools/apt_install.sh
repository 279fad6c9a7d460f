#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are not installed yet (apt-get, with sudo when not
# root); prints which ones it installs on stderr. Used by tools/setup.sh (build dependencies) and tools/test.sh
# (test-only tools).
#   tools/apt_install.sh libeigen3-dev python3-jsonschema ...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "$(basename "$0"): installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
