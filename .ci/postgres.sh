#!/usr/bin/env bash
# Make PostgreSQL server binaries (initdb, pg_ctl) available for tests/test_postgres.py.
# Idempotent: does nothing when they are already on PATH or in /usr/lib/postgresql/*/bin.
# It never starts a server: the tests' fixture (tests/pg.py) starts a throwaway one.
set -euo pipefail

find_initdb() {
  if command -v initdb >/dev/null 2>&1; then
    command -v initdb
    return 0
  fi
  local f
  f="$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V -r | head -n 1)"
  if [ -x "$f" ]; then
    echo "$f"
    return 0
  fi
  return 1
}

if found="$(find_initdb)"; then
  echo "postgres.sh: PostgreSQL found ($found); nothing to install"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "postgres.sh: PostgreSQL (initdb) not found, and cannot install it here" \
    "(needs root and apt-get); install the postgresql package" >&2
  exit 1
fi

echo "postgres.sh: PostgreSQL not found; installing it with apt-get (postgresql)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
# Debian's package may create and start a 'main' cluster; the tests do not use it.
if found="$(find_initdb)"; then
  echo "postgres.sh: installed PostgreSQL ($found)"
else
  echo "postgres.sh: installed the postgresql package, but initdb is still not found" >&2
  exit 1
fi
