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
SUPERVISOR_PID=""
# Tests may stop the server (SIGTERM to the pid in this file) to exercise a restart: the
# supervisor below starts it again on the same database, a few times at most.
export HERALD_SERVER_PIDFILE="$WORK/server.pid"
MAX_RESTARTS=5

server_pid() { cat "$HERALD_SERVER_PIDFILE" 2>/dev/null || true; }

cleanup() {
  touch "$WORK/stop"
  local pid
  pid="$(server_pid)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    # Graceful shutdown waits for open connections; don't let a stuck one hang the run.
    for _ in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  [[ -n "$SUPERVISOR_PID" ]] && wait "$SUPERVISOR_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
export HERALD_URL="http://127.0.0.1:$PORT"

echo "==> starting $SERVER_BIN on $HERALD_URL (log: $WORK/server.log)"
(
  cd "$ROOT"
  for _ in $(seq 0 "$MAX_RESTARTS"); do
    DATABASE_URL="sqlite://$WORK/herald.db" HERALD_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
      "$SERVER_BIN" serve &
    echo $! >"$HERALD_SERVER_PIDFILE"
    wait $! || exit 1 # a crash (not a requested stop) ends the run
    [[ -e "$WORK/stop" ]] && exit 0
    echo "--- server stopped; restarting ---"
  done
) >"$WORK/server.log" 2>&1 &
SUPERVISOR_PID=$!
SERVER_PID=$SUPERVISOR_PID

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
