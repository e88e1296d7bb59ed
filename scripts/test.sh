#!/usr/bin/env bash
# Runs every test: unit and doc tests; the server's HTTP/WebSocket integration tests on
# SQLite and again on PostgreSQL; the two-node cluster tests (PostgreSQL); and the browser
# tests (Playwright driving Debian's Chromium against a real server).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh" --test
HERALD_TEST_POSTGRES_URL="$("$ROOT/scripts/postgres.sh")"
export HERALD_TEST_POSTGRES_URL
cd "$ROOT"
cargo test -p app -p server
HERALD_TEST_DATABASE=postgres cargo test -p server --test rest --test auth --test live
"$ROOT/end2end/run.sh"
