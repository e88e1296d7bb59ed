#!/usr/bin/env bash
# The development loop: `cargo leptos watch` with the project's build settings (target dir,
# linker, output name) so it shares compiled artifacts with the other scripts. Edits to the
# admin are rebuilt and served within seconds (README, "Development").
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
export DATABASE_URL="${DATABASE_URL:-sqlite://$ROOT/herald.db}"
exec cargo leptos watch "$@"
