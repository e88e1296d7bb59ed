#!/usr/bin/env bash
# Checks the crate rules of docs/README.md: `herald-protocol` pulls in no Leptos, tokio or
# axum; `herald-framework` and the `server` library never depend on the admin app; the
# server's store, live hub and resource declarations import nothing from the UI crates.
# Run by scripts/test.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
fail() { echo "layout: $*" >&2; exit 1; }

protocol_deps=$(cargo tree -p herald-protocol -e normal --prefix none --offline 2>/dev/null || cargo tree -p herald-protocol -e normal --prefix none)
for forbidden in leptos tokio axum; do
  if grep -q "^$forbidden" <<<"$protocol_deps"; then
    fail "herald-protocol depends on $forbidden"
  fi
done

for features in "" "--features ssr" "--features hydrate" "--features native"; do
  # shellcheck disable=SC2086
  if cargo tree -p herald-framework $features -e normal --prefix none 2>/dev/null | grep -q "^app v"; then
    fail "herald-framework ($features) depends on the admin app"
  fi
done

if cargo tree -p server -e normal --prefix none | grep -q "^app v"; then
  fail "the server library depends on the admin app"
fi

if grep -rnE "herald_framework|\\bapp::" server/src/store server/src/live server/src/resource.rs; then
  fail "the server's store, live hub or resource declarations import a UI crate"
fi
echo "layout: protocol has no Leptos/tokio/axum; framework knows no app; store and hub use protocol types only"
