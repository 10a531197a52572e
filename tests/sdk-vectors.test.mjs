// The shared vectors through the very Wasm a site loads (`web-sdk/dist/rapport_bg.wasm`, after
// wasm-opt), in Node: the Rust-side runs (native, wasm-bindgen-test in Node and Chromium) test
// what rustc made, and wasm-opt rewrites all of it (BENCHMARKS.md: the relooper among its
// passes). Each vector catalog goes through `rapport compile --browser`, as the edge serves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './support/wrangler.mjs';

const glue = await import(pathToFileURL(join(ROOT, 'target/web-sdk-pkg/rapport.js')).href);
glue.initSync({ module: readFileSync(join(ROOT, 'web-sdk/dist/rapport_bg.wasm')) });
const bin = join(ROOT, 'target/release/rapport');
const dir = mkdtempSync(join(tmpdir(), 'rapport-vectors-'));

for (const file of readdirSync(join(ROOT, 'tests/vectors')).filter((f) => f.endsWith('.json'))) {
  test(`tests/vectors/${file} decides as natively in the shipped Wasm`, () => {
    const vectors = JSON.parse(readFileSync(join(ROOT, 'tests/vectors', file), 'utf8'));
    const catalog = join(dir, file);
    writeFileSync(catalog, JSON.stringify(vectors.catalog));
    const bundle = execFileSync(bin, ['compile', catalog, '--browser'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.ok(vectors.cases.length > 0);
    // A new engine per case, as the native run takes a new profile per case.
    for (const c of vectors.cases) {
      const engine = new glue.Engine();
      try {
        assert.equal(engine.call('bundle', bundle, 0, 0), '');
        const args = [c.placement, JSON.stringify(c.context), c.trace ? 'trace' : ''].join('\0');
        const got = engine.call('decide', args, c.now, c.seed);
        assert.deepEqual(JSON.parse(got), c.expect, c.name);
      } finally {
        engine.free();
      }
    }
  });
}
