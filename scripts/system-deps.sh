#!/usr/bin/env bash
# Debian packages the suite, `make local` and `make bench` need: PostgreSQL server binaries, Graphviz's
# dot, Chromium and chromedriver, and wrk (the API's load generator: compiled, so the client does not
# eat the CPU the server is measured on).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# headless Chromium and its driver for the recommendation test page's browser test
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi
echo "installing ${need[*]} from Debian…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${need[@]}" >/dev/null
