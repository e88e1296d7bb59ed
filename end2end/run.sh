#!/usr/bin/env bash
# Builds the site with cargo-leptos, starts Herald on a free port over a throwaway SQLite
# database, runs the browser tests against it, and stops the server.
#
#   end2end/run.sh                  build + run every test
#   end2end/run.sh tests/x.test.js  build + run some tests
#   HERALD_SKIP_BUILD=1 end2end/run.sh   reuse the last build
#
# Honours CARGO_TARGET_DIR (the site goes to $CARGO_TARGET_DIR/site unless LEPTOS_SITE_ROOT
# says otherwise), CHROMIUM_PATH (default /usr/bin/chromium) and HERALD_SCREENSHOTS (a
# directory to save screenshots into).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$TARGET_DIR/site}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-herald}"
export LEPTOS_SITE_PKG_DIR="${LEPTOS_SITE_PKG_DIR:-pkg}"

if [[ -z "${HERALD_SKIP_BUILD:-}" ]]; then
  echo "==> cargo leptos build (site: $LEPTOS_SITE_ROOT)"
  (cd "$ROOT" && cargo leptos build)
fi

SERVER_BIN="$TARGET_DIR/debug/server"
for f in "$SERVER_BIN" "$LEPTOS_SITE_ROOT/$LEPTOS_SITE_PKG_DIR/$LEPTOS_OUTPUT_NAME.wasm"; do
  [[ -e "$f" ]] || { echo "missing $f: did the build run?" >&2; exit 1; }
done

if [[ ! -d "$HERE/node_modules/playwright-core" ]]; then
  echo "==> npm ci"
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    # Graceful shutdown waits for open connections; don't let a stuck one hang the run.
    for _ in $(seq 1 20); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
export HERALD_URL="http://127.0.0.1:$PORT"

echo "==> starting $SERVER_BIN on $HERALD_URL (log: $WORK/server.log)"
(
  cd "$ROOT"
  DATABASE_URL="sqlite://$WORK/herald.db" HERALD_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
    exec "$SERVER_BIN" serve
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 120); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "server exited early:" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$HERALD_URL/login" || true)" == "200" ]]; then
    break
  fi
  sleep 0.5
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$HERALD_URL/login" || true)" == "200" ]] || {
  echo "server did not come up on $HERALD_URL:" >&2
  cat "$WORK/server.log" >&2
  exit 1
}

echo "==> browser tests"
status=0
(cd "$HERE" && node --test --test-concurrency=1 "${@:-tests/}") || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- server log ---" >&2
  tail -n 50 "$WORK/server.log" >&2
fi
exit $status
