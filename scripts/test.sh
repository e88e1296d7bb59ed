#!/usr/bin/env bash
# Runs every test: unit and doc tests, the server's HTTP/WebSocket integration tests, and
# the browser tests (Playwright driving Debian's Chromium against a real server).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh" --test
cd "$ROOT"
cargo test -p app -p server
"$ROOT/end2end/run.sh"
