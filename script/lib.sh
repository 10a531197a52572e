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

# Cargo for the browser SDK's Wasm as sites load it, with Rust's standard library built from
# source (the toolchain's own rust-src, script/setup adds it) for it alone:
# - without reference types: wasm-bindgen keeps JS values in its JS-side heap rather than a Wasm
#   externref table, and the table's code leaves the module (0.5 KB gzip). The worker's glue
#   (workers-rs) and wasm-bindgen-test's runner need reference types, so only this build drops
#   them (the Playwright suites load it); Cargo keeps the builds' artefacts apart.
# - std at opt-level "z" with its `optimize_for_size` code, and panics that trap at once
#   (`-Cpanic=immediate-abort`) instead of formatting a message nobody reads (wasm32 has no
#   stderr): 2.9 KB gzip (BENCHMARKS.md); and, since nothing reports a panic's place either,
#   no source file names for them (`-Zlocation-detail=none`: 0.2 KB).
# Building std is a Cargo feature stable Rust has not released (and immediate-abort needs Rust
# 1.92 or later): RUSTC_BOOTSTRAP lets the stable toolchain use them, for these builds only. If
# a toolchain ever refuses these flags, dropping them (and RUSTC_BOOTSTRAP) gives a working SDK
# 2.9 KB larger; the tests run on the stable build.
sdk_cargo() {
  local flags="-Ctarget-feature=-reference-types -Cpanic=immediate-abort -Zunstable-options -Zlocation-detail=none"
  local cmd="$1"
  shift
  local std=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
  # RUSTFLAGS, even empty, overrides the per-target variable: the flags join it when it is set.
  if [ -n "${RUSTFLAGS:-}" ]; then
    RUSTC_BOOTSTRAP=1 RUSTFLAGS="$RUSTFLAGS $flags" cargo "$cmd" "${std[@]}" "$@"
  else
    env -u RUSTFLAGS RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags" \
      cargo "$cmd" "${std[@]}" "$@"
  fi
}

# wasm-opt's settings for the SDK's Wasm (script/build; script/bench breakdown adds -g).
# --low-memory-unused lets wasm-opt fold a constant below 1 KB into a load's or store's offset
# (0.3 KB gzip). That changes nothing unless pointer + constant wraps past 4 GiB, which no Rust
# pointer does; Rust puts its 1 MB stack first in memory, so only a frame already overflowed
# below address 0 could, and it now traps instead of writing into low memory.
# After the first -Oz, --flatten --rereloop rebuilds every function's control flow with
# binaryen's relooper, and two more -Oz rounds shrink what it built: 0.5 KB gzip, of branches
# LLVM laid out for speed (BENCHMARKS.md, eighth session: decisions 3% slower, 14.4 against
# 13.9 µs). tests/sdk-vectors.test.mjs runs the shared vectors through the module it makes.
SDK_WASM_OPT=(-Oz --skip-pass=inlining-optimizing --low-memory-unused --strip-producers
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
  --flatten --rereloop -Oz -Oz)
# wasm-bindgen's settings for the SDK's glue. core.js always passes the Wasm's URL, and every
# browser has TextEncoder.encodeInto: the glue needs neither the default path nor the fallback.
SDK_BINDGEN=(--target web --no-typescript --omit-default-module-path --encode-into always)

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# The version Cargo.lock pins for a crate.
locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}
