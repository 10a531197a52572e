// Decision cost against catalog size: the shared workload's 200 offers repeated to 10 … 10,000
// offers, decided by Rapport in Wasm (profiles resident, as in the SDK), json-logic-engine
// (`build`) and json-logic-js, in one Node process. Writes target/bench/scale.json, which
// script/bench.d/plot.mjs draws.
//
//   node script/bench.d/scale.mjs WORKLOAD WASM
//
// Copy k of an offer (k ≥ 1) shifts the numbers of its rule by k % 5 and gets its own id and a
// slightly lower score, so that larger catalogs are not the same 200 rules over and over: a
// rule engine that shares work between equal tests still meets new constants as it grows.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import jsonLogic from 'json-logic-js';
import { LogicEngine } from 'json-logic-engine';
import * as common from './common.mjs';

const [workloadPath, wasmPath] = process.argv.slice(2);
const workload = JSON.parse(readFileSync(workloadPath, 'utf8'));
const { profiles } = workload;
const SIZES = [10, 30, 100, 300, 1000, 3000, 10000];
const ROUNDS = 5;

/** `rule` with every number outside a `var` shifted by `by`. */
function shift(rule, by) {
  if (Array.isArray(rule)) return rule.map((x) => shift(x, by));
  if (typeof rule === 'number') return rule + by;
  if (rule && typeof rule === 'object') {
    return Object.fromEntries(Object.entries(rule).map(([k, v]) => [k, k === 'var' ? v : shift(v, by)]));
  }
  return rule;
}

function offersOf(n) {
  return Array.from({ length: n }, (_, i) => {
    const base = workload.offers[i % workload.offers.length];
    const copy = Math.floor(i / workload.offers.length);
    return { id: `${base.id}-${copy}`, score: base.score - copy * 1e-3, jsonlogic: shift(base.jsonlogic, copy % 5) };
  });
}

/** µs per decision: best of ROUNDS rounds, each at least ~50 ms, profiles taking turns. */
function measure(decideOne, offers) {
  const perCall = () => {
    const start = process.hrtime.bigint();
    for (let p = 0; p < profiles.length; p++) decideOne(p);
    return Number(process.hrtime.bigint() - start) / 1000 / profiles.length;
  };
  const passes = Math.max(1, Math.ceil(50_000 / Math.max(perCall(), 1) / profiles.length));
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < passes; i++) for (let p = 0; p < profiles.length; p++) decideOne(p);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / (passes * profiles.length));
  }
  return best;
}

const bestOf = (offers, test) => common.bestOf(offers, profiles, test);

const { wasm, put } = await common.loadRapport(wasmPath);
profiles.forEach((profile, p) => {
  put(JSON.stringify(profile));
  if (wasm.add_profile() !== p) throw new Error('the Wasm module refused a profile');
});

const engine = new LogicEngine();
const rows = [];
for (const n of SIZES) {
  const offers = offersOf(n);
  put(JSON.stringify(offers.map(({ jsonlogic, score }) => ({ jsonlogic, score }))));
  if (wasm.load_offers() !== n) throw new Error(`the Wasm module refused ${n} offers`);
  const built = offers.map((o) => engine.build(o.jsonlogic));
  const js = bestOf(offers, (o, profile) => !!jsonLogic.apply(offers[o].jsonlogic, profile));
  const compiled = bestOf(offers, (o, profile) => !!built[o](profile));
  // Every engine must agree before it is timed.
  profiles.forEach((_, p) => {
    const [a, b, c] = [wasm.decide(p), js(p), compiled(p)];
    if (a !== b || b !== c) throw new Error(`${n} offers, profile ${p}: rapport ${a}, json-logic-js ${b}, json-logic-engine ${c}`);
  });
  const row = {
    offers: n,
    us_per_decision: measure((p) => wasm.decide(p)),
    json_logic_engine_us: measure(compiled),
    json_logic_js_us: measure(js),
  };
  for (const k of Object.keys(row)) if (k !== 'offers') row[k] = Math.round(row[k] * 1000) / 1000;
  rows.push(row);
  console.log(`${String(n).padStart(6)} offers: rapport (Wasm) ${row.us_per_decision} µs, json-logic-engine ${row.json_logic_engine_us} µs, json-logic-js ${row.json_logic_js_us} µs`);
}
mkdirSync('target/bench', { recursive: true });
writeFileSync('target/bench/scale.json', JSON.stringify(rows, null, 1) + '\n');
