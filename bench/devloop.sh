#!/usr/bin/env bash
# The development loop, measured: starts `cargo leptos watch` (as scripts/dev.sh does), waits
# until it serves, then N times changes one word in the login page and times how long until
# the edit is served — the server-rendered HTML shows the new word AND the browser bundle
# (wasm) has been rebuilt. Prints each run and the median; restores the page afterwards.
#   bench/devloop.sh [runs=3]
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
RUNS="${1:-3}"
PAGE="$ROOT/app/src/admin/pages/login.rs"
WORD_LINE='<h1>"Sign in to Herald"</h1>'
ADDR=127.0.0.1:3000
WORK="$(mktemp -d)"
cp "$PAGE" "$WORK/login.rs.orig"
LOG="$WORK/watch.log"

cleanup() {
  cp "$WORK/login.rs.orig" "$PAGE"
  if [[ -n "${WATCH_PID:-}" ]]; then
    kill -- "-$WATCH_PID" 2>/dev/null || kill "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
  fi
  pkill -f "$CARGO_TARGET_DIR/debug/server" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
wasm_sum() { curl -s "http://$ADDR/pkg/herald.wasm" | md5sum | cut -d' ' -f1; }

cd "$ROOT"
export DATABASE_URL="sqlite://$WORK/dev.db"
start=$(now)
set -m
"$ROOT/scripts/dev.sh" >"$LOG" 2>&1 &
WATCH_PID=$!
set +m
until curl -sf "http://$ADDR/login" >/dev/null 2>&1; do
  sleep 0.2
  if ! kill -0 "$WATCH_PID" 2>/dev/null; then
    echo "cargo leptos watch exited:"; tail -30 "$LOG"; exit 1
  fi
done
printf 'serving after %.1f s (warm cache if the target dir was built before)\n' "$(elapsed "$start")"
sleep 2

times=()
for i in $(seq 1 "$RUNS"); do
  word="Herald${i}x$RANDOM"
  before=$(wasm_sum)
  sed -i "s|$WORD_LINE|<h1>\"Sign in to $word\"</h1>|" "$PAGE"
  t0=$(now)
  until curl -s "http://$ADDR/login" 2>/dev/null | grep -q "$word" && [[ "$(wasm_sum)" != "$before" ]]; do
    sleep 0.2
  done
  t=$(elapsed "$t0")
  times+=("$t")
  printf 'run %d: edit served after %.1f s\n' "$i" "$t"
  cp "$WORK/login.rs.orig" "$PAGE"
  # Let the restore rebuild before the next edit.
  until curl -s "http://$ADDR/login" 2>/dev/null | grep -q 'Sign in to Herald<'; do sleep 0.2; done
  sleep 2
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
printf 'median of %d: %.1f s\n' "$RUNS" "$median"
