// The decision benchmark: one Node process, every engine on the same workload
// (../shared/bench/workload.json: 16 profiles, 200 offers with a JsonLogic rule and a score).
// A decision evaluates every offer's rule and keeps the best score (first on ties).
//
//   node script/bench.d/decision.mjs WORKLOAD WASM [NATIVE_JSON_LINE]
//
// - Rapport in Wasm (WASM: benches/wasm built for wasm32-unknown-unknown), called from Node
//   once per decision, with the profile resident in Wasm memory (as the SDK keeps it) and with
//   the profile passed as JSON on every call (as a one-shot API would);
// - json-logic-js 2.0.5 and json-logic-engine 5.x compiled with `build`, from npm;
// - Rapport natively: the line `cargo bench --bench workload` printed, passed in.
//
// Every engine's decisions are checked against the workload's before timing; a wrong engine
// fails the run. Each figure is the best of ten rounds (the machine is shared). Writes
// target/bench/decision.json and prints each engine against the resident Wasm.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import jsonLogic from 'json-logic-js';
import { LogicEngine } from 'json-logic-engine';
import * as common from './common.mjs';

const [workloadPath, wasmPath, nativeLine] = process.argv.slice(2);
const workload = JSON.parse(readFileSync(workloadPath, 'utf8'));
const { profiles, offers } = workload;
const expected = workload.decisions.map((d) => d.best);
const ROUNDS = 10;

function check(name, decideOne) {
  profiles.forEach((_, p) => {
    const got = offers[decideOne(p)]?.id ?? null;
    if (got !== expected[p]) throw new Error(`${name}: profile ${p} decided ${got}, expected ${expected[p]}`);
  });
}

/**
 * µs per decision, best of ROUNDS rounds of `passes` passes over the profiles. Profiles take
 * turns, as visitors do: deciding one profile over and over would let the branch predictor
 * learn every rule's answer.
 */
function measure(name, decideOne, passes) {
  check(name, decideOne);
  let best = Infinity;
  for (let r = 0; r <= ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < passes; i++) for (let p = 0; p < profiles.length; p++) decideOne(p);
    const us = Number(process.hrtime.bigint() - start) / 1000 / (passes * profiles.length);
    // Round 0 warms up.
    if (r > 0) best = Math.min(best, us);
  }
  return best;
}

const bestOf = (test) => common.bestOf(offers, profiles, test);

// Rapport in Wasm.
const { wasm, put } = await common.loadRapport(wasmPath);
put(JSON.stringify(offers.map(({ jsonlogic, score }) => ({ jsonlogic, score }))));
if (wasm.load_offers() !== offers.length) throw new Error('the Wasm module refused the offers');
const profileJson = profiles.map((p) => JSON.stringify(p));
profileJson.forEach((json, p) => {
  put(json);
  if (wasm.add_profile() !== p) throw new Error('the Wasm module refused a profile');
});

const figures = {};
figures.wasm_node_us = measure('rapport wasm (resident profile)', (p) => wasm.decide(p), 1000);
figures.wasm_node_json_us = measure('rapport wasm (profile as JSON)', (p) => {
  put(profileJson[p]);
  return wasm.decide_json();
}, 500);
figures.json_logic_js_us = measure(
  'json-logic-js',
  bestOf((o, profile) => !!jsonLogic.apply(offers[o].jsonlogic, profile)),
  20,
);
const engine = new LogicEngine();
const built = offers.map((offer) => engine.build(offer.jsonlogic));
figures.json_logic_engine_us = measure('json-logic-engine', bestOf((o, profile) => !!built[o](profile)), 50);
if (nativeLine) {
  const native = JSON.parse(nativeLine);
  if (!native.correct) throw new Error('rapport native: wrong decisions');
  figures.native_us = native.us_per_decision;
}

const round = (x) => Math.round(x * 1000) / 1000;
const report = {
  workload: workloadPath,
  offers: offers.length,
  profiles: profiles.length,
  node: process.version,
  ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v)])),
  json_logic_js_vs_wasm: round(figures.json_logic_js_us / figures.wasm_node_us),
  json_logic_engine_vs_wasm: round(figures.json_logic_engine_us / figures.wasm_node_us),
};
mkdirSync('target/bench', { recursive: true });
writeFileSync('target/bench/decision.json', JSON.stringify(report, null, 1) + '\n');
const rows = [
  ['Rapport, native', figures.native_us],
  ['Rapport, Wasm in Node, profile resident', figures.wasm_node_us],
  ['Rapport, Wasm in Node, profile passed as JSON', figures.wasm_node_json_us],
  ['json-logic-engine 5 (build)', figures.json_logic_engine_us],
  ['json-logic-js 2.0.5', figures.json_logic_js_us],
];
for (const [name, us] of rows) {
  if (us === undefined) continue;
  const ratio = us / figures.wasm_node_us;
  const vs = ratio >= 1 ? `${ratio.toFixed(1)}× the resident Wasm` : `${(1 / ratio).toFixed(1)}× faster than the resident Wasm`;
  console.log(`${name.padEnd(46)} ${us.toFixed(2).padStart(8)} µs  ${vs}`);
}
