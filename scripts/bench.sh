#!/usr/bin/env bash
# Runs Herald's benchmark suite and prints the results table (also written to
# bench/RESULTS.md): live fan-out at 100 / 1,000 / 10,000 subscribers, 10,000 idle sockets,
# and REST list/get/write with wrk — against Herald, the Node.js + socket.io reference peer
# (bench/peer/) and json-server, all on loopback, all started and stopped here.
#
#   scripts/bench.sh            the whole suite (about 10 minutes on 2 cores)
#   BENCH_QUICK=1 scripts/bench.sh   shorter runs, for trying the script out
#
# Needs: cargo, node + npm (packages pinned in bench/peer/package-lock.json), wrk (Debian;
# installed here when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
BIN="$CARGO_TARGET_DIR/release"
PEER_DIR="$ROOT/bench/peer"
DURATION=10       # seconds of writing per fan-out run
REST_SECS=5       # seconds per wrk run
IDLE_SOCKETS=10000
if [[ -n "${BENCH_QUICK:-}" ]]; then
  DURATION=3 REST_SECS=2 IDLE_SOCKETS=2000
fi

say() { printf '\033[1m[bench %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ tools and builds

# 10,000 sockets need 10,000+ descriptors on each side; stay within the hard limit.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < 2 * IDLE_SOCKETS + 1000 )); then
  say "warning: ulimit -n is $(ulimit -n); 10,000-socket runs may fail"
fi

if ! command -v wrk >/dev/null; then
  say "installing wrk (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if [[ ! -d "$PEER_DIR/node_modules" || "$PEER_DIR/package-lock.json" -nt "$PEER_DIR/node_modules" ]]; then
  say "installing the peer's npm packages (bench/peer/package-lock.json)"
  (cd "$PEER_DIR" && npm ci --silent --no-audit --no-fund && touch node_modules)
fi

say "building server and bench (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$ROOT" && cargo build --release -p server -p bench)

# ------------------------------------------------------------------ servers

WORK="$(mktemp -d /tmp/herald-bench.XXXXXX)"
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

port() { "$BIN/bench" port; }

HERALD_PORT=$(port)
HERALD="http://127.0.0.1:$HERALD_PORT"
say "starting Herald on $HERALD"
(cd "$WORK" && exec env RUST_LOG=warn DATABASE_URL="sqlite://$WORK/herald.db" HERALD_ADDR="127.0.0.1:$HERALD_PORT" \
  LEPTOS_OUTPUT_NAME=herald "$BIN/server" serve) >"$WORK/herald.log" 2>&1 &
HERALD_PID=$!
PIDS+=("$HERALD_PID")
"$BIN/bench" wait --url "$HERALD/api/auth/me"

say "exporting Herald's seed data as db.json"
"$BIN/bench" export --base "$HERALD" --out "$WORK/db.json"
cp "$WORK/db.json" "$WORK/json-server-db.json"

PEER_PORT=$(port)
PEER="http://127.0.0.1:$PEER_PORT"
say "starting the peer (Node.js + express + socket.io + better-sqlite3) on $PEER"
(cd "$PEER_DIR" && exec env PORT="$PEER_PORT" PEER_DB="$WORK/peer.db" PEER_DATA="$WORK/db.json" NODE_ENV=production \
  node server.js) >"$WORK/peer.log" 2>&1 &
PEER_PID=$!
PIDS+=("$PEER_PID")
"$BIN/bench" wait --url "$PEER/api/posts"

JSON_PORT=$(port)
JSON_SERVER="http://127.0.0.1:$JSON_PORT"
say "starting json-server on $JSON_SERVER"
(cd "$WORK" && exec "$PEER_DIR/node_modules/.bin/json-server" --quiet --host 127.0.0.1 --port "$JSON_PORT" \
  "$WORK/json-server-db.json") >"$WORK/json-server.log" 2>&1 &
JSON_PID=$!
PIDS+=("$JSON_PID")
"$BIN/bench" wait --url "$JSON_SERVER/posts"

# ------------------------------------------------------------------ measurements

# Runs one measurement, appending its JSON line; a failed one is reported and skipped.
measure() {
  local name=$1
  shift
  say "$name"
  if ! "$BIN/bench" "$@" >>"$RESULTS" 2>"$WORK/step.err"; then
    say "FAILED: $name: $(tail -n 5 "$WORK/step.err")"
  fi
}

fanout() { # target base pid label subscribers rate
  measure "fan-out $1: $5 subscribers × $6 writes/s for ${DURATION}s" fanout --target "$1" --base "$2" \
    --server-pid "$3" --label "$4" --subscribers "$5" --rate "$6" --duration "$DURATION"
}

for target in herald peer; do
  if [[ $target == herald ]]; then base=$HERALD pid=$HERALD_PID; else base=$PEER pid=$PEER_PID; fi
  measure "idle $target: $IDLE_SOCKETS subscribed sockets" idle --target $target --base "$base" --server-pid "$pid" \
    --sockets "$IDLE_SOCKETS"
  sleep 2
  fanout $target "$base" "$pid" fanout-100 100 50
  fanout $target "$base" "$pid" fanout-1000 1000 50
  fanout $target "$base" "$pid" throughput-1000 1000 150
  fanout $target "$base" "$pid" fanout-10000 10000 10
  sleep 2
done

rest() { # server op url method body token-from
  local args=(rest --server "$1" --op "$2" --url "$3" --method "$4" --duration "$REST_SECS")
  [[ -n "$5" ]] && args+=(--body "$5")
  [[ -n "$6" ]] && args+=(--token-from "$6")
  measure "REST $1 $2: wrk ${REST_SECS}s" "${args[@]}"
}

LIST='posts?_start=0&_end=10&_sort=id&_order=desc'
BODY='{"content":"written by wrk"}'
rest herald list "$HERALD/api/$LIST" GET "" "$HERALD"
rest peer list "$PEER/api/$LIST" GET "" "$PEER"
rest json-server list "$JSON_SERVER/$LIST" GET "" ""
rest herald get "$HERALD/api/posts/1" GET "" "$HERALD"
rest peer get "$PEER/api/posts/1" GET "" "$PEER"
rest json-server get "$JSON_SERVER/posts/1" GET "" ""
rest herald write "$HERALD/api/posts/2" PATCH "$BODY" "$HERALD"
rest peer write "$PEER/api/posts/2" PATCH "$BODY" "$PEER"
rest json-server write "$JSON_SERVER/posts/2" PATCH "$BODY" ""

# ------------------------------------------------------------------ report

versions() {
  local pkg=$1
  node -p "require('$PEER_DIR/node_modules/$pkg/package.json').version"
}
"$BIN/bench" report --results "$RESULTS" --out "$ROOT/bench/RESULTS.md" \
  --date "$(date -u '+%Y-%m-%d %H:%M UTC')" --command "scripts/bench.sh" \
  --note "Herald: release build, 2 tokio worker threads, SQLite (WAL) in a temp dir, log level warn" \
  --note "Peer: Node.js $(node --version), express $(versions express), socket.io $(versions socket.io), better-sqlite3 $(versions better-sqlite3) (bench/peer/server.js, one process)" \
  --note "REST reference: json-server $(versions json-server) --quiet, serving Herald's seed exported as db.json" \
  --note "Load: bench (Rust, tokio-tungstenite 0.29; socket.io spoken as Engine.IO v4 frames) and $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), on the same machine"
