#!/usr/bin/env bash
# Debian packages the test suite uses: chromium (browser tests), a CJK font (screenshots of
# Chinese screens) and nginx (the deploy/ example under test). Installed when missing; without
# root or apt the tests that need them skip loudly.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "WARNING: cannot install ${missing[*]} (need root and apt-get); browser tests will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "WARNING: apt-get could not install ${missing[*]}; browser tests will be skipped." >&2
