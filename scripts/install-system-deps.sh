#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only where they are missing:
# jackd2 (JACK's dummy driver, a real-time audio clock without a sound card) and chromium
# (the report renders in a real headless browser).
# Without root or apt-get it says so and carries on: the tests that need a package skip, saying why.
set -u
need=()
command -v jackd >/dev/null 2>&1 || need+=(jackd2)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: not root or no apt-get; missing ${need[*]} (tests that need them will skip)" >&2
  exit 0
fi
echo "install-system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "install-system-deps: apt-get failed for ${need[*]} (tests that need them will skip)" >&2
exit 0
