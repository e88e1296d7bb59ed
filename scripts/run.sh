#!/usr/bin/env bash
# Runs Herald: installs missing tools, builds the release site, migrates and seeds the
# database, serves on http://127.0.0.1:3000 (HERALD_ADDR to change).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
cargo leptos build --release
export DATABASE_URL="${DATABASE_URL:-sqlite://$ROOT/herald.db}"
echo "Herald on http://${HERALD_ADDR:-127.0.0.1:3000} — sign in as alice or bob, password: demo"
exec "$CARGO_TARGET_DIR/release/server" serve
