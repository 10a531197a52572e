// The catalog playground: edit a catalog (checked as you type by the same Wasm core that
// decides at the edge and in the browser), write or pick a journey, and see every decision
// and why. Entirely in the browser.
import { loadCore } from '/sdk/tools.mjs';

const $ = (s) => document.querySelector(s);
const T = Date.UTC(2026, 10, 22, 9, 0, 0);
const M = 60_000;
const line = (o) => JSON.stringify(o);

const JOURNEYS = {
  'Three coat views within an hour': [
    { at: T, event: { type: 'product_view', props: { category: 'coats' } } },
    { at: T + 10 * M, event: { type: 'product_view', props: { category: 'coats' } } },
    { at: T + 11 * M, decide: 'hero' },
    { at: T + 20 * M, event: { type: 'product_view', props: { category: 'coats' } } },
    { at: T + 21 * M, decide: 'hero' },
    { at: T + 81 * M, decide: 'hero' },
  ],
  'A late delivery and a support chat': [
    { at: T, event: { type: 'product_view', props: { category: 'running' } } },
    { at: T + M, decide: 'hero' },
    { at: T + 2 * M, event: { type: 'support_chat', props: { topic: 'late delivery' } } },
    { at: T + 3 * M, decide: 'hero' },
    { at: T + 3 * M, decide: 'notice' },
  ],
  'In the store': [{ at: T, decide: 'hero', context: { store: { checked_in: true } } }],
  'A gold member': [
    { at: T, event: { type: 'identify', props: { namespace: 'crm', id: 'david-7', traits: { first_name: 'David', tier: 'gold' } } } },
    { at: T + M, event: { type: 'purchase', props: { total: 560 } } },
    { at: T + 2 * M, decide: 'hero' },
    { at: T + 2 * M, profile: true },
  ],
  'Consent denied': [
    { at: T, event: { type: 'consent', props: { personalization: 'denied' } } },
    { at: T + M, event: { type: 'product_view', props: { category: 'coats' } } },
    { at: T + 2 * M, decide: 'hero' },
  ],
  'A crawler': [{ at: T, decide: 'hero', context: { device: { type: 'bot' } } }],
};

function showErrors(errors) {
  const list = $('#errors');
  list.replaceChildren(
    ...errors.map((e) => {
      const li = document.createElement('li');
      li.textContent = `${e.path || '/'}: ${e.message}`;
      return li;
    }),
  );
  $('#catalog-status').textContent = errors.length ? `${errors.length} error(s)` : 'valid';
  $('#catalog').classList.toggle('invalid', errors.length > 0);
}

function showResults(steps, outputs) {
  const rows = [];
  let o = 0;
  for (const step of steps) {
    if (!step.decide && !step.profile) continue;
    const out = outputs[o++];
    const tr = document.createElement('tr');
    const when = new Date(step.at).toISOString().slice(11, 16);
    let what;
    let why = '';
    if (step.decide) {
      const shown = out.items.map((i) => i.offer).join(', ') || '(nothing)';
      what = `${step.decide}: ${shown}${out.fallback ? ' (fallback)' : ''}${out.experiment ? ` · ${out.experiment.id}/${out.experiment.variant}` : ''}`;
      why = (out.trace ?? []).map((t) => `${t.offer}: ${t.reason}`).join('\n');
    } else {
      what = 'profile';
      why = JSON.stringify({ computed: out.computed, audiences: out.audiences, consent: out.consent.personalization }, null, 1);
    }
    for (const text of [when, what, why]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    rows.push(tr);
  }
  $('#results tbody').replaceChildren(...rows);
}

async function start() {
  const core = await loadCore(new URL('/sdk/tools/rapport_tools_bg.wasm', location.href));
  const bundle = await (await fetch('/v1/bundle')).json();
  $('#catalog').value = JSON.stringify(bundle.catalog, null, 2);
  const picker = $('#journey-pick');
  for (const name of Object.keys(JOURNEYS)) picker.append(new Option(name, name));
  const pick = () => ($('#journey').value = JOURNEYS[picker.value].map(line).join('\n'));
  picker.addEventListener('change', pick);
  pick();

  let timer;
  const check = () => showErrors(core.validateCatalog($('#catalog').value));
  $('#catalog').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, 150);
  });
  check();

  $('#run').addEventListener('click', () => {
    const text = $('#journey').value;
    const result = core.simulate($('#catalog').value, text, $('#profile-id').value || 'visitor');
    $('#journey-errors').textContent = result.errors.join('\n');
    const steps = text.split('\n').filter((l) => l.trim()).map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return {};
      }
    });
    showResults(steps, result.outputs);
  });
  $('#playground').dataset.ready = 'true';
}

start();
