// Two builds of the browser SDK's Wasm, compared in one run, rounds alternating: loading a bundle
// with 20 tracked events, and a decision. For size work: every cut is checked for speed here.
//
//   node script/bench.d/sdk-ab.mjs BUNDLE DIR_A DIR_B [ROUNDS]
//
// Each DIR holds `rapport.js` (wasm-bindgen's glue, `--target web`: target/web-sdk-pkg/ after
// script/build) and `rapport_bg.wasm` (web-sdk/dist/ after script/build). BUNDLE is a browser
// bundle (`rapport compile --browser`); a DIR holding its own `bundle.json` loads that instead
// (a build from before bundle format 2 needs a format 1 one). Prints the best round of each; run
// it again with the builds swapped before trusting a difference under 5%: this machine is noisy.
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundleFile, a, b, rounds = '12'] = process.argv.slice(2);
if (!b) {
  console.error('usage: node script/bench.d/sdk-ab.mjs BUNDLE DIR_A DIR_B [ROUNDS]');
  process.exit(2);
}
const bundle = readFileSync(bundleFile, 'utf8');
const builds = [];
for (const dir of [a, b]) {
  // A query string per build: the same glue file imported twice would be one module.
  const glue = await import(`${pathToFileURL(`${dir}/rapport.js`).href}?${builds.length}`);
  glue.initSync({ module: readFileSync(`${dir}/rapport_bg.wasm`) });
  const own = `${dir}/bundle.json`;
  const text = existsSync(own) ? readFileSync(own, 'utf8') : bundle;
  builds.push({ dir, glue, bundle: text, load: Infinity, decide: Infinity });
}
const NOW = 1_763_800_000_000;
const DECISIONS = 2000;
const context = JSON.stringify({ page: { path: '/coats/' }, device: { type: 'desktop' } });
const placement = JSON.parse(bundle).catalog.placements;
const first = Object.keys(placement)[0];

// Builds since the seventh session reach the engine through `call` (one export, the bundle loaded
// by the `bundle` operation); earlier ones through a method per operation. Both are driven alike.
function open({ glue, bundle }) {
  if (!glue.Engine.prototype.call) return { engine: new glue.Engine(bundle), ops: null };
  const engine = new glue.Engine();
  const call = (op, now, seed, ...args) => engine.call(op, args.join('\0'), now, seed);
  call('bundle', 0, 0, bundle);
  const ops = {
    load: (...args) => call('load', 0, 0, ...args),
    track: (event) => call('track', 0, 0, event),
    decide: (p, ctx, now, seed) => call('decide', now, seed, p, ctx, ''),
  };
  return { engine, ops };
}

function round(build, warmup) {
  const t0 = performance.now();
  const { engine, ops: own } = open(build);
  const ops = own ?? engine;
  ops.load('browser:ab', 'ab', '', '');
  for (let i = 0; i < 20; i++) {
    ops.track(JSON.stringify({ id: `e${i}`, type: 'page_view', ts: NOW + i, props: { path: '/coats/' } }));
  }
  const t1 = performance.now();
  for (let i = 0; i < DECISIONS; i++) ops.decide(first, context, NOW + 10_000, i, false);
  const t2 = performance.now();
  engine.free();
  if (warmup) return;
  build.load = Math.min(build.load, t1 - t0);
  build.decide = Math.min(build.decide, ((t2 - t1) / DECISIONS) * 1000);
}
for (let r = 0; r < Number(rounds) + 2; r++) for (const build of builds) round(build, r < 2);
for (const { dir, load, decide } of builds) {
  console.log(`${dir}: load + 20 events ${load.toFixed(2)} ms, decision (${first}) ${decide.toFixed(2)} µs`);
}
