#!/usr/bin/env bash
# Make a Java runtime available for tests/test_spark_parity.py (Spark runs in a JVM).
# Idempotent: does nothing when java is on PATH or under JAVA_HOME. PySpark itself comes with
# the spark extra, which `make setup` installs (pip install -e '.[dev,spark]').
set -euo pipefail

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  echo "spark.sh: Java found ($JAVA_HOME/bin/java); nothing to install"
  exit 0
fi
if command -v java >/dev/null 2>&1; then
  echo "spark.sh: Java found ($(command -v java)); nothing to install"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "spark.sh: Java not found, and cannot install it here (needs root and apt-get);" \
    "install a Java 17 or 21 runtime (e.g. openjdk-17-jre-headless) or set JAVA_HOME" >&2
  exit 1
fi

echo "spark.sh: Java not found; installing it with apt-get (openjdk-17-jre-headless)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's JRE post-install scripts expect the man folder (absent in slim images)
mkdir -p /usr/share/man/man1
apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
if command -v java >/dev/null 2>&1; then
  echo "spark.sh: installed Java ($(command -v java))"
else
  echo "spark.sh: installed openjdk-17-jre-headless, but java is still not on PATH" >&2
  exit 1
fi
