#!/usr/bin/env bash
# Installs what building and testing Herald needs, each piece only when it is missing.
#   scripts/setup.sh          tools to build and run the app
#   scripts/setup.sh --test   also Chromium and the end-to-end test packages
set -euo pipefail
source "$(dirname "$0")/env.sh"

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$ROOT/Cargo.toml")
BINARYEN_VERSION=132

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (compiles for ~25 minutes, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != *"$WASM_BINDGEN_VERSION"* ]]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# Release builds run wasm-opt; Debian's binaryen is too old (its output fails in Chromium).
if [[ "$(wasm-opt --version 2>/dev/null || true)" != *"version $BINARYEN_VERSION"* ]]; then
  say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
  mkdir -p "$HERALD_CACHE/tools"
  npm install --silent --no-audit --no-fund --prefix "$HERALD_CACHE/tools" "binaryen@$BINARYEN_VERSION"
fi

if [[ "${1:-}" == "--test" ]]; then
  if ! command -v chromium >/dev/null; then
    say "installing Chromium (Debian) for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if [[ -f "$ROOT/end2end/package-lock.json" ]] && [[ ! -d "$ROOT/end2end/node_modules" || "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules" ]]; then
    say "installing end-to-end test packages"
    (cd "$ROOT/end2end" && npm ci --silent --no-audit --no-fund && touch node_modules)
  fi
fi
