#!/usr/bin/env bash
# Runs Herald's benchmark suite and prints the results table (also written to
# bench/RESULTS.md): the hydrate bundle's size, refetches per 1,000-event burst, live fan-out
# at 100 / 1,000 / 10,000 subscribers, 10,000 idle sockets, stalled readers, a soak with slow
# readers, two Herald nodes on PostgreSQL, and REST list/get/write with wrk — against Herald, the
# Node.js + socket.io reference peer (bench/peer/) and json-server, all on loopback, all
# started and stopped here.
#
#   scripts/bench.sh            the whole suite (about 10 minutes on 2 cores)
#   BENCH_QUICK=1 scripts/bench.sh   shorter runs, for trying the script out
#
# Needs: cargo, PostgreSQL (scripts/postgres.sh finds or installs it), node + npm (packages
# pinned in bench/peer/package-lock.json), wrk (Debian; installed here when missing).
set -euo pipefail

source "$(dirname "$0")/env.sh"
BIN="$CARGO_TARGET_DIR/release"
PEER_DIR="$ROOT/bench/peer"
DURATION=10       # seconds of writing per fan-out run
REST_SECS=5       # seconds per wrk run
IDLE_SOCKETS=10000
SOAK_SECS=60 SOAK_SOCKETS=2000   # the soak run: seconds of writing, subscribed sockets
if [[ -n "${BENCH_QUICK:-}" ]]; then
  DURATION=3 REST_SECS=2 IDLE_SOCKETS=2000 SOAK_SECS=15 SOAK_SOCKETS=500
fi

say() { printf '\033[1m[bench %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ tools and builds

# 10,000 sockets need 10,000+ descriptors in the server and in the load generator (each its
# own process); stay within the hard limit.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < IDLE_SOCKETS + 1000 )); then
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

say "building the site, server and bench (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
"$ROOT/scripts/setup.sh"
(cd "$ROOT" && cargo leptos build --release && cargo build --release -p admin -p bench)

# ------------------------------------------------------------------ servers
# Every scenario gets freshly started servers on fresh data: no run inherits the memory,
# sockets or state of the one before it.

WORK="$(mktemp -d /tmp/herald-bench.XXXXXX)"
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
HERALD_PID="" PEER_PID="" JSON_PID="" LOG=""
NODE_PIDS=() PG_DB=""

# Stops a server we started: SIGTERM, then SIGKILL if it has not exited within 10 s.
stop() {
  local pid=$1
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop "$HERALD_PID"
  stop "$PEER_PID"
  stop "$JSON_PID"
  stop_cluster
  if [[ -n "${BENCH_KEEP:-}" ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

port() { "$BIN/bench" port; }

# The load generator is one user holding thousands of sockets, each subscribing once: lift
# the per-user live limits (32 connections, 20 subscribes/s) to their maxima.
LIVE_LIMITS=(HERALD_LIVE_USER_CONNECTIONS=100000 HERALD_LIVE_PUBLISH_RATE=10000 HERALD_LIVE_PUBLISH_BURST=100000)

start_herald() {
  stop "$HERALD_PID"
  local dir
  dir="$(mktemp -d "$WORK/herald.XXXX")"
  HERALD_PORT=$(port)
  HERALD="http://127.0.0.1:$HERALD_PORT"
  LOG="$dir/server.log"
  (cd "$dir" && exec env RUST_LOG=warn DATABASE_URL="sqlite://$dir/herald.db" HERALD_ADDR="127.0.0.1:$HERALD_PORT" \
    "${LIVE_LIMITS[@]}" LEPTOS_OUTPUT_NAME=herald "$BIN/server" serve) >"$LOG" 2>&1 &
  HERALD_PID=$!
  "$BIN/bench" wait --url "$HERALD/api/auth/me"
}

start_peer() {
  stop "$PEER_PID"
  local dir
  dir="$(mktemp -d "$WORK/peer.XXXX")"
  PEER_PORT=$(port)
  PEER="http://127.0.0.1:$PEER_PORT"
  LOG="$dir/server.log"
  (cd "$PEER_DIR" && exec env PORT="$PEER_PORT" PEER_DB="$dir/peer.db" PEER_DATA="$WORK/db.json" NODE_ENV=production \
    node server.js) >"$LOG" 2>&1 &
  PEER_PID=$!
  "$BIN/bench" wait --url "$PEER/api/posts"
}

start_json_server() {
  stop "$JSON_PID"
  local dir
  dir="$(mktemp -d "$WORK/json-server.XXXX")"
  cp "$WORK/db.json" "$dir/db.json"
  JSON_PORT=$(port)
  JSON_SERVER="http://127.0.0.1:$JSON_PORT"
  LOG="$dir/server.log"
  (cd "$dir" && exec "$PEER_DIR/node_modules/.bin/json-server" --quiet --host 127.0.0.1 --port "$JSON_PORT" \
    "$dir/db.json") >"$LOG" 2>&1 &
  JSON_PID=$!
  "$BIN/bench" wait --url "$JSON_SERVER/posts"
}

# Herald nodes sharing a fresh PostgreSQL database; NODES[i] is node i's base URL.
start_cluster() {
  local count=$1 i dir port
  stop_cluster
  PG_DB="herald_bench_$$_$RANDOM"
  psql "$PG_ADMIN" -qc "CREATE DATABASE $PG_DB"
  NODES=()
  for ((i = 0; i < count; i++)); do
    dir="$(mktemp -d "$WORK/node.XXXX")"
    port=$(port)
    LOG="$dir/server.log"
    (cd "$dir" && exec env RUST_LOG=warn DATABASE_URL="${PG_ADMIN%/*}/$PG_DB" HERALD_ADDR="127.0.0.1:$port" \
      "${LIVE_LIMITS[@]}" LEPTOS_OUTPUT_NAME=herald "$BIN/server" serve) >"$LOG" 2>&1 &
    NODE_PIDS+=($!)
    NODES+=("http://127.0.0.1:$port")
    "$BIN/bench" wait --url "http://127.0.0.1:$port/api/auth/me"
  done
}

stop_cluster() {
  local pid
  for pid in "${NODE_PIDS[@]}"; do stop "$pid"; done
  NODE_PIDS=()
  if [[ -n "$PG_DB" ]]; then psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || true; fi
  PG_DB=""
}

say "exporting Herald's seed data as db.json (for the peer and json-server)"
start_herald
"$BIN/bench" export --base "$HERALD" --out "$WORK/db.json"
stop "$HERALD_PID"
HERALD_PID=""

# ------------------------------------------------------------------ measurements

say "bundle: the release hydrate wasm + JS"
"$BIN/bench" bundle --dir "$LEPTOS_SITE_ROOT/pkg" >>"$RESULTS"
say "coalescing: refetches of one live list per 1,000-event burst"
"$BIN/bench" coalesce >>"$RESULTS"

# Runs one measurement, appending its JSON line; a failed one is reported and skipped.
measure() {
  local name=$1
  shift
  say "$name"
  if ! "$BIN/bench" "$@" >>"$RESULTS" 2>"$WORK/step.err"; then
    say "FAILED: $name: $(grep -m1 -E '^Error' -A3 "$WORK/step.err" | tr '\n' ' ')"
    say "server log ($LOG): $(tail -n 3 "$LOG" | tr '\n' ' ')"
  fi
}

# target label subscribers rate: one fan-out run against a fresh server.
fanout() {
  if [[ $1 == herald ]]; then start_herald; base=$HERALD pid=$HERALD_PID; else start_peer; base=$PEER pid=$PEER_PID; fi
  measure "fan-out $1: $3 subscribers × $4 writes/s for ${DURATION}s" fanout --target "$1" --base "$base" \
    --server-pid "$pid" --label "$2" --subscribers "$3" --rate "$4" --duration "$DURATION"
}

for target in herald peer; do
  if [[ $target == herald ]]; then start_herald; base=$HERALD pid=$HERALD_PID; else start_peer; base=$PEER pid=$PEER_PID; fi
  measure "idle $target: $IDLE_SOCKETS subscribed sockets" idle --target $target --base "$base" --server-pid "$pid" \
    --sockets "$IDLE_SOCKETS"
  fanout $target fanout-100 100 50
  fanout $target fanout-1000 1000 50
  fanout $target fanout-10000 10000 10
  fanout $target throughput-1000 1000 150
done
stop "$HERALD_PID"
stop "$PEER_PID"
HERALD_PID="" PEER_PID=""

# Hostile readers: sockets that never read while the largest events are written.
start_herald
measure "stalled readers: 20 non-reading sockets, 1,000 writes of the largest posts" stalled \
  --base "$HERALD" --server-pid "$HERALD_PID"
stop "$HERALD_PID"
HERALD_PID=""

# Soak: slow readers (10 % of the sockets) among a crowd under steady 10 KB writes; they are
# cut off, the server's RSS stays flat, the probes lose nothing and keep their latency.
start_herald
measure "soak: $SOAK_SOCKETS sockets (10 % slow readers) + 20 probes, 20 writes/s of 10 KB for ${SOAK_SECS}s" soak \
  --base "$HERALD" --server-pid "$HERALD_PID" --sockets "$SOAK_SOCKETS" --duration "$SOAK_SECS"
stop "$HERALD_PID"
HERALD_PID=""

# Several nodes on PostgreSQL: the same load with subscribers on one node and the writer on
# another, next to a single node on the same engine.
PG_ADMIN="$("$ROOT/scripts/postgres.sh")"
start_cluster 1
measure "fan-out herald on PostgreSQL, one node: 100 subscribers × 50 writes/s" fanout --target herald \
  --base "${NODES[0]}" --server-pid "${NODE_PIDS[0]}" --label pg-single-100 --subscribers 100 --rate 50 --duration "$DURATION"
start_cluster 2
measure "fan-out herald on PostgreSQL, writer on node 1, subscribers on node 2" fanout --target herald \
  --base "${NODES[1]}" --write-base "${NODES[0]}" --server-pid "${NODE_PIDS[1]}" --label pg-cross-100 \
  --subscribers 100 --rate 50 --duration "$DURATION"
stop_cluster

# server op path method body: one wrk run against a fresh server.
rest() {
  local url token=() body=()
  case $1 in
    herald) start_herald; url="$HERALD/api/$3"; token=(--token-from "$HERALD") ;;
    peer) start_peer; url="$PEER/api/$3"; token=(--token-from "$PEER") ;;
    json-server) start_json_server; url="$JSON_SERVER/$3" ;;
  esac
  [[ -n "$5" ]] && body=(--body "$5")
  measure "REST $1 $2: wrk ${REST_SECS}s" rest --server "$1" --op "$2" --url "$url" --method "$4" \
    --duration "$REST_SECS" "${token[@]}" "${body[@]}"
}

LIST='posts?_start=0&_end=10&_sort=id&_order=desc'
BODY='{"content":"written by wrk"}'
for server in herald peer json-server; do
  rest $server list "$LIST" GET ""
  rest $server get posts/1 GET ""
  rest $server write posts/2 PATCH "$BODY"
done
stop "$HERALD_PID"
stop "$PEER_PID"
stop "$JSON_PID"
HERALD_PID="" PEER_PID="" JSON_PID=""

# ------------------------------------------------------------------ report

versions() {
  local pkg=$1
  node -p "require('$PEER_DIR/node_modules/$pkg/package.json').version"
}
"$BIN/bench" report --results "$RESULTS" --out "$ROOT/bench/RESULTS.md" --readme "$ROOT/README.md" \
  --date "$(date -u '+%Y-%m-%d %H:%M UTC')" --command "scripts/bench.sh" \
  --note "Herald: commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'), release build, 2 tokio worker threads, SQLite (WAL) in a temp dir, log level warn, a fresh server and database per scenario" \
  --note "Peer: Node.js $(node --version), express $(versions express), socket.io $(versions socket.io), better-sqlite3 $(versions better-sqlite3) (bench/peer/server.js, one process)" \
  --note "REST reference: json-server $(versions json-server) --quiet, serving Herald's seed exported as db.json" \
  --note "Load: bench (Rust, tokio-tungstenite 0.29; socket.io spoken as Engine.IO v4 frames) and $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), on the same machine"
