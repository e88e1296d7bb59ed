#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 and prints a URL that may create
# databases on it (the tests create and drop one per test). Uses, in order:
#   $HERALD_TEST_POSTGRES_URL, when set;
#   the server already on 127.0.0.1:5432, as `postgres` when it trusts local TCP, or else
#     as a `herald` role this script creates through the local `postgres` system account;
#   otherwise Debian's `postgresql` package, installed and started here.
set -euo pipefail

if [[ -n "${HERALD_TEST_POSTGRES_URL:-}" ]]; then
  echo "$HERALD_TEST_POSTGRES_URL"
  exit 0
fi

say() { printf '\033[1m[postgres]\033[0m %s\n' "$*" >&2; }
TRUST_URL="postgres://postgres@127.0.0.1:5432/postgres"
ROLE_URL="postgres://herald:herald@127.0.0.1:5432/postgres"

answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
works() { psql "$1" -qtAc 'SELECT 1' >/dev/null 2>&1; }

if ! answers; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "no PostgreSQL on 127.0.0.1:5432: installing Debian's postgresql"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 50); do answers && break; sleep 0.2; done
fi

if ! command -v psql >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
fi

if works "$TRUST_URL"; then
  echo "$TRUST_URL"
  exit 0
fi
if ! works "$ROLE_URL"; then
  say "creating the role 'herald' (CREATEDB) for the tests"
  runuser -u postgres -- psql -qc "DO \$\$ BEGIN
      CREATE ROLE herald LOGIN CREATEDB PASSWORD 'herald';
    EXCEPTION WHEN duplicate_object THEN ALTER ROLE herald LOGIN CREATEDB PASSWORD 'herald';
    END \$\$;" >&2
fi
works "$ROLE_URL" || { say "cannot log in to PostgreSQL on 127.0.0.1:5432; set HERALD_TEST_POSTGRES_URL"; exit 1; }
echo "$ROLE_URL"
