# Shared by the scripts in script/: project root, tool paths, logging. Source it, don't run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# wrangler and workerd, unattended and offline.
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
# worker-build must use these rather than download its own.
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"

# Cargo for the browser SDK's Wasm as sites load it. Without reference types, wasm-bindgen keeps
# JS values in its JS-side heap rather than a Wasm externref table, and the table's code leaves
# the module: 0.5 KB gzip (BENCHMARKS.md). Only there: the worker's glue (workers-rs) and
# wasm-bindgen-test's runner need reference types (the Playwright suites load this build).
# Cargo keeps the two builds' artefacts apart, so neither rebuilds the other. The release build
# is stripped, feature section included, so wasm-bindgen emits its heap glue (std, built with
# reference types, would otherwise have it expect an externref table: script/bench breakdown).
sdk_cargo() {
  local flag="-Ctarget-feature=-reference-types"
  # RUSTFLAGS, even empty, overrides the per-target variable: the flag joins it when it is set.
  if [ -n "${RUSTFLAGS:-}" ]; then
    RUSTFLAGS="$RUSTFLAGS $flag" cargo "$@"
  else
    env -u RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flag" cargo "$@"
  fi
}

# wasm-opt's settings for the SDK's Wasm (script/build; script/bench breakdown adds -g).
# --low-memory-unused lets wasm-opt fold a constant below 1 KB into a load's or store's offset
# (0.3 KB gzip). That changes nothing unless pointer + constant wraps past 4 GiB, which no Rust
# pointer does; Rust puts its 1 MB stack first in memory, so only a frame already overflowed
# below address 0 could, and it now traps instead of writing into low memory.
SDK_WASM_OPT=(-Oz --skip-pass=inlining-optimizing --low-memory-unused --strip-producers
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals)
# wasm-bindgen's settings for the SDK's glue. core.js always passes the Wasm's URL, and every
# browser has TextEncoder.encodeInto: the glue needs neither the default path nor the fallback.
SDK_BINDGEN=(--target web --no-typescript --omit-default-module-path --encode-into always)

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# The version Cargo.lock pins for a crate.
locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}
