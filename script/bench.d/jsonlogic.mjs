// The JS baselines for the decision benchmark: the shared workload (../shared/bench) decided
// with json-logic-js and json-logic-engine, as Rapport decides it (evaluate every offer's rule,
// best score wins). Prints one JSON line per engine: µs per decision, and whether every
// decision matched the workload's expected one.
import { readFileSync } from 'node:fs';
import jsonLogic from 'json-logic-js';
import { LogicEngine } from 'json-logic-engine';

const workload = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const iterations = Number(process.argv[3] ?? 200);

function decideAll(test) {
  return workload.profiles.map((profile, p) => {
    let best = null;
    for (let o = 0; o < workload.offers.length; o++) {
      const offer = workload.offers[o];
      if (test(o, profile) && (best === null || offer.score > best.score)) best = offer;
    }
    return best?.id ?? null;
  });
}

function measure(name, test) {
  const expected = workload.decisions.map((d) => d.best);
  const correct = JSON.stringify(decideAll(test)) === JSON.stringify(expected);
  for (let i = 0; i < 20; i++) decideAll(test);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) decideAll(test);
  const ns = Number(process.hrtime.bigint() - start);
  const decisions = iterations * workload.profiles.length;
  console.log(JSON.stringify({ engine: name, us_per_decision: ns / 1000 / decisions, correct, offers: workload.offers.length }));
}

measure('json-logic-js 2.0.5', (o, profile) => !!jsonLogic.apply(workload.offers[o].jsonlogic, profile));
const engine = new LogicEngine();
const compiled = workload.offers.map((offer) => engine.build(offer.jsonlogic));
measure('json-logic-engine 5.0.7 (compiled)', (o, profile) => !!compiled[o](profile));
