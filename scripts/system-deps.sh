#!/usr/bin/env bash
# Install the system packages MLRange needs: bubblewrap (the lab sandbox) always, Chromium
# (browser tests) with --browser. As root this uses apt; otherwise it says what to install.
set -euo pipefail
want=(bubblewrap)
[ "${1:-}" = "--browser" ] && want+=(chromium)
missing=()
for pkg in "${want[@]}"; do
  case $pkg in
    bubblewrap) command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap) ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "MLRange needs these system packages: ${missing[*]}" >&2
  echo "Install them as an administrator, e.g.: sudo apt-get install ${missing[*]}" >&2
  [[ " ${missing[*]} " == *" bubblewrap "* ]] && echo "Without bubblewrap the labs refuse to run (nothing runs unsandboxed)." >&2
  exit 0
fi
