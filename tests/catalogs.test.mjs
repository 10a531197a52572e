// Every catalog the project ships validates against the published JSON Schema with a real JSON
// Schema validator (ajv, draft 2020-12), and broken catalogs do not; and the experiment buckets
// `rapport simulate` assigns match an independent murmur3 implementation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import murmur from 'murmurhash3js-revisited';
import { ROOT } from './support/wrangler.mjs';

const read = (path) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
const schema = read('schema/catalog.schema.json');
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

const shipped = [
  'www/catalog.json',
  ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.catalog.json')).map((f) => `examples/${f}`),
];

for (const path of shipped) {
  test(`${path} validates against the JSON Schema`, () => {
    assert.ok(validate(read(path)), JSON.stringify(validate.errors, null, 2));
  });
}

test('the shared vectors catalog validates too', () => {
  assert.ok(validate(read('tests/vectors/decide.json').catalog), JSON.stringify(validate.errors));
});

test('the schema rejects what the core rejects: unknown fields, bad ids, wrong types', () => {
  const base = read('examples/northwind.catalog.json');
  const broken = [
    { ...base, placment: {} },
    { ...base, offers: [{ ...base.offers[0], id: 'has space' }] },
    { ...base, offers: [{ ...base.offers[0], priority: 'high' }] },
    { ...base, settings: { ...base.settings, session_timeout: '30 minutes' } },
    { ...base, placements: { hero: { ranking: 'random' } } },
  ];
  for (const catalog of broken) assert.equal(validate(catalog), false);
});

const bin = join(ROOT, 'target/release/rapport');

test('experiment buckets match an independent murmur3_x86_32', () => {
  const weights = [1, 2, 3];
  const traffic = 70;
  const catalog = {
    catalog: 'murmur',
    settings: { consent: { default: 'granted' } },
    placements: { p: {} },
    offers: [{ id: 'o', placements: ['p'] }],
    experiments: [{ id: 'exp-1', placement: 'p', traffic, variants: weights.map((w, i) => ({ id: `v${i}`, weight: w })) }],
  };
  const path = join(mkdtempSync(join(tmpdir(), 'rapport-')), 'catalog.json');
  writeFileSync(path, JSON.stringify(catalog));
  const T = traffic * 100;
  const W = weights.reduce((a, b) => a + b);
  let inside = 0;
  for (let k = 0; k < 300; k++) {
    const key = `visitor-${k}-ß`;
    const b = murmur.x86.hash32(new TextEncoder().encode(`exp-1:${key}`), 0) % 10000;
    let expected = null;
    if (b < T) {
      let below = 0;
      for (let i = 0; i < weights.length; i++) {
        if (T * below <= b * W && b * W < T * (below + weights[i])) expected = `v${i}`;
        below += weights[i];
      }
    }
    const out = execFileSync(bin, ['simulate', '--catalog', path, '--profile-id', key], { input: '{"at": 1, "decide": "p"}\n' });
    const decision = JSON.parse(out.toString());
    assert.equal(decision.experiment?.variant ?? null, expected, `key ${key}, bucket ${b}`);
    if (expected) inside++;
  }
  assert.ok(inside > 150 && inside < 270, `${inside} of 300 in a 70% experiment`);
});
