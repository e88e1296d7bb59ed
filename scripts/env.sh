# Shared by the scripts: where builds and tools live. Sourced, not run.
# Builds go outside the clone so that a fresh clone (CI) reuses compiled dependencies.
HERALD_CACHE="${HERALD_CACHE:-$HOME/.cache/herald}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HERALD_CACHE/target}"
export PATH="$HOME/.cargo/bin:$HERALD_CACHE/tools/node_modules/.bin:$PATH"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT HERALD_CACHE
# leptos reads this with option_env!: keep it identical for cargo and cargo-leptos runs, or
# every switch between them recompiles leptos and everything above it.
export LEPTOS_OUTPUT_NAME=herald
# Where cargo-leptos writes the site and the server reads it: set before any build, or
# cargo-leptos falls back to Cargo.toml's `target/site` inside the clone.
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$CARGO_TARGET_DIR/site}"
