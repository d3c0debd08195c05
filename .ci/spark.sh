#!/usr/bin/env bash
# Make a Java runtime Spark supports (17 or 21) available for tests/test_spark_parity.py (Spark
# runs in a JVM). Idempotent: does nothing when $JAVA_HOME/bin/java or the java on PATH is
# already Java 17 or 21. PySpark itself comes with the spark extra, which `make test`
# installs (pip install -e '.[dev,spark]'); with KPITOOLS_REQUIRE_SPARK=1 (.ci/run) the tests
# fail, not skip, when either is missing.
set -euo pipefail

java_major() { # major version of the java executable $1 ("17" of 17.0.15, "8" of 1.8.0)
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\.\{0,1\}\([0-9]*\).*/\1 \2/p' | head -n 1 |
    awk '{ print ($1 == 1 ? $2 : $1) }'
}

suitable() { # $1: a java executable; true when it is Java 17 or 21
  local major
  major="$(java_major "$1" || true)"
  [ "$major" = 17 ] || [ "$major" = 21 ]
}

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  if suitable "$JAVA_HOME/bin/java"; then
    echo "spark.sh: Java found ($JAVA_HOME/bin/java); nothing to install"
    exit 0
  fi
  echo "spark.sh: JAVA_HOME is Java $(java_major "$JAVA_HOME/bin/java"), Spark needs 17 or 21" >&2
  exit 1
fi
if command -v java >/dev/null 2>&1 && suitable "$(command -v java)"; then
  echo "spark.sh: Java found ($(command -v java)); nothing to install"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "spark.sh: Java 17 or 21 not found, and cannot install it here (needs root and" \
    "apt-get); install a Java 17 or 21 runtime (e.g. openjdk-17-jre-headless) or set JAVA_HOME" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian 12 has openjdk-17, Debian 13 openjdk-21 (PySpark 4.0 supports both)
package=""
for candidate in openjdk-17-jre-headless openjdk-21-jre-headless; do
  if apt-cache show "$candidate" >/dev/null 2>&1; then
    package="$candidate"
    break
  fi
done
if [ -z "$package" ]; then
  echo "spark.sh: neither openjdk-17-jre-headless nor openjdk-21-jre-headless is in apt" >&2
  exit 1
fi
echo "spark.sh: Java 17 or 21 not found; installing it with apt-get ($package)"
# Debian's JRE post-install scripts expect the man folder (absent in slim images)
mkdir -p /usr/share/man/man1
apt-get install -y -qq --no-install-recommends "$package" >/dev/null
if command -v java >/dev/null 2>&1 && suitable "$(command -v java)"; then
  echo "spark.sh: installed Java ($(command -v java), $package)"
else
  echo "spark.sh: installed $package, but java on PATH is still not Java 17 or 21" >&2
  exit 1
fi
