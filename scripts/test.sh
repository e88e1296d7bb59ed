#!/usr/bin/env bash
# Runs every test: unit and doc tests of every crate; the server's HTTP/WebSocket
# integration tests on SQLite and again on PostgreSQL; the two-node cluster tests
# (PostgreSQL); the example app's tests; and the browser tests (Playwright driving Debian's
# Chromium against a real server).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh" --test
HERALD_TEST_POSTGRES_URL="$("$ROOT/scripts/postgres.sh")"
export HERALD_TEST_POSTGRES_URL
cd "$ROOT"
"$ROOT/scripts/check-layout.sh"
cargo test -p herald-protocol -p herald-framework -p server -p app -p admin -p herald-example-tasks
HERALD_TEST_DATABASE=postgres cargo test -p admin --test api -- rest:: auth:: live::
HERALD_TEST_DATABASE=postgres cargo test -p server --test resources
HERALD_TEST_DATABASE=postgres cargo test -p herald-example-tasks --test board
"$ROOT/end2end/run.sh"
