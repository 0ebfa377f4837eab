#!/usr/bin/env bash
# Debian/Ubuntu packages the suite, `make local` and `make bench` need. Required: the PostgreSQL server
# binaries (the stand-ins). Wanted, never required: Graphviz's dot (the snapshots' SVGs), Chromium and
# chromedriver (the browser tests skip without them), wrk (the API's load generator; only `make bench`
# uses it, and it says so when it is missing) and shellcheck (the drift workflow's script check skips without it).
# As root it installs with apt-get; otherwise with `sudo -n apt-get` when sudo works without a password
# (GitHub's hosted runners); otherwise it installs nothing and fails only if a required package is missing.
# RDP_PG_LIB (default /usr/lib/postgresql) is where the PostgreSQL server binaries are looked for.
set -euo pipefail
pg_lib="${RDP_PG_LIB:-/usr/lib/postgresql}"

has_postgres() { compgen -G "$pg_lib/*/bin/initdb" >/dev/null; }
missing() { # the packages of "$@" (package:command pairs) whose command is not found
  local pair
  for pair in "$@"; do command -v "${pair#*:}" >/dev/null 2>&1 || echo "${pair%%:*}"; done
}

required=()
has_postgres || required+=(postgresql)
mapfile -t wanted < <(missing graphviz:dot chromium:chromium chromium-driver:chromedriver wrk:wrk shellcheck:shellcheck)
[ ${#required[@]} -eq 0 ] && [ ${#wanted[@]} -eq 0 ] && exit 0

apt=()
if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  apt=(sudo -n apt-get)
fi
if [ ${#apt[@]} -eq 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if [ ${#required[@]} -gt 0 ]; then
    echo "missing system packages: ${required[*]} (install them with apt-get as root, or give this user sudo)" >&2
    exit 1
  fi
  echo "not installed (optional: the tests that need them skip; wrk only serves make bench): ${wanted[*]}" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "installing ${required[*]} ${wanted[*]} with ${apt[*]}…" >&2
"${apt[@]}" update -qq >/dev/null
if [ ${#required[@]} -gt 0 ]; then
  "${apt[@]}" install -y -qq "${required[@]}" >/dev/null
fi
for pkg in "${wanted[@]}"; do # one at a time: a package the distribution lacks must not block the others
  "${apt[@]}" install -y -qq "$pkg" >/dev/null 2>&1 || echo "could not install $pkg (optional): skipped" >&2
done
if ! has_postgres; then
  echo "postgresql is installed but no initdb under $pg_lib/*/bin" >&2
  exit 1
fi
