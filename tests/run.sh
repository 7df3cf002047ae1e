#!/usr/bin/env bash
# Runs Picket's whole test suite, every database test on both SQLite and PostgreSQL, and the
# browser journeys in a headless Chromium. It installs what the tests need (libpq; Chromium,
# ChromeDriver and a Java runtime from Debian; axe-core and the Nu HTML Checker from npm, pinned
# in tests/browser/package-lock.json) and finds or starts a PostgreSQL:
# $PICKET_TEST_DATABASE_URL if set, else a server on 127.0.0.1:5432 (user postgres,
# trust auth), else a throwaway cluster from the installed PostgreSQL binaries
# (installing Debian's postgresql package when missing and running as root).
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "tests/run.sh: $*" >&2; }

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $*"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    say "missing $*: install them (Debian: sudo apt-get install $*) and run again"
    exit 1
  fi
}

# libpq for the PostgreSQL driver (pq-sys links it through pkg-config).
if ! pkg-config --exists libpq 2>/dev/null; then
  apt_install libpq-dev pkg-config
fi

# The browser journeys: Chromium driven over WebDriver, checked by axe-core and vnu (Java).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v java >/dev/null || missing+=(default-jre-headless)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi
if [ ! -f tests/browser/node_modules/.package-lock.json ] \
  || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  say "installing the page checkers (npm ci in tests/browser)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null
fi

pg_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -z "${PICKET_TEST_DATABASE_URL:-}" ]; then
  if pg_answers 5432; then
    export PICKET_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$bindir" ]; then
      apt_install postgresql
      bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    port=55432
    cluster=$(mktemp -d /tmp/picket-pg.XXXXXX)
    as_pg=()
    if [ "$(id -u)" = 0 ]; then
      # initdb refuses to run as root.
      id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
      chown postgres "$cluster"
      as_pg=(runuser -u postgres --)
    fi
    say "starting a throwaway PostgreSQL from $bindir on port $port"
    "${as_pg[@]}" "$bindir/initdb" -D "$cluster/data" -U postgres --auth=trust >/dev/null
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w \
      -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
    trap '"${as_pg[@]}" "$bindir/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null; rm -rf "$cluster"' EXIT
    export PICKET_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  fi
fi

say "PostgreSQL for tests: $PICKET_TEST_DATABASE_URL"
cargo test --workspace "$@"
