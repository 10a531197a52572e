// The edge worker over HTTP, in workerd via `wrangler dev` with local KV: the shared decision
// vectors, publishing, the bundle's ETag, HTML fill at the edge, and the browser SDK deciding
// locally in headless Chromium against the same worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, adminToken, launchChromium, startWorker } from './support/wrangler.mjs';

const vectors = JSON.parse(readFileSync(join(ROOT, 'tests/vectors/decide.json'), 'utf8'));
let worker;

before(async () => {
  worker = await startWorker();
});
after(() => worker?.stop());

const withoutId = ({ decision_id, ...rest }) => rest;

function publish(body, token = adminToken()) {
  return fetch(`${worker.base}/v1/admin/catalog`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function decide(placement, path) {
  const url = `${worker.base}/v1/decide?placement=${encodeURIComponent(placement)}&path=${encodeURIComponent(path)}`;
  const r = await fetch(url);
  assert.equal(r.status, 200);
  return (await r.json()).decisions;
}

test('publishing needs the admin token', async () => {
  assert.equal((await publish(vectors.catalog, 'wrong')).status, 401);
  const r = await fetch(`${worker.base}/v1/admin/catalog`, { method: 'PUT', body: '{}' });
  assert.equal(r.status, 401);
});

test('a valid catalog publishes', async () => {
  const r = await publish(vectors.catalog);
  assert.equal(r.status, 200, await r.clone().text());
  assert.match((await r.json()).published, /^[0-9a-f]{16}$/);
});

test('the shared decision vectors hold over HTTP', async () => {
  for (const c of vectors.cases) {
    const [got] = await decide(c.placement, c.context.page.path);
    assert.deepEqual(withoutId(got), withoutId(c.expect), c.name);
    assert.match(got.decision_id, /^[0-9a-f]{16}$/);
  }
});

test('several placements are decided in order', async () => {
  const got = await decide('notice', '/tents/').then(() =>
    fetch(`${worker.base}/v1/decide?placement=notice&placement=hero&path=/coats/`).then((r) => r.json()),
  );
  assert.deepEqual(got.decisions.map((d) => d.placement), ['notice', 'hero']);
  assert.equal(got.decisions[1].items[0].offer, 'hero-coats');
});

test('an invalid catalog is refused with every error and the last good one keeps serving', async () => {
  const bad = structuredClone(vectors.catalog);
  bad.offers[1].audience = 'nobody';
  bad.offers[2].placements = ['nowhere'];
  const r = await publish(bad);
  assert.equal(r.status, 400);
  const { errors } = await r.json();
  assert.deepEqual(errors.map((e) => e.path).sort(), ['/offers/1/audience', '/offers/2/placements/0']);
  assert.equal((await publish('{not json')).status, 400);
  const [hero] = await decide('hero', '/coats/');
  assert.equal(hero.items[0].offer, 'hero-coats');
});

test('the browser bundle carries an ETag and answers 304 when unchanged', async () => {
  const r = await fetch(`${worker.base}/v1/bundle`);
  assert.equal(r.status, 200);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const bundle = await r.json();
  assert.equal(`"${bundle.version}"`, etag);
  const again = await fetch(`${worker.base}/v1/bundle`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  // Format 2, what this SDK asks for: the same catalog and version, with its compiled form; an
  // ETag of its own, so a cache never answers one format's request with the other.
  const compiled = await fetch(`${worker.base}/v1/bundle?format=2`);
  assert.equal(compiled.status, 200);
  const etag2 = compiled.headers.get('etag');
  assert.equal(etag2, `"${bundle.version}.2"`);
  const bundle2 = await compiled.json();
  assert.equal(bundle2.rapport_bundle, 2);
  assert.equal(bundle2.version, bundle.version);
  assert.deepEqual(bundle2.catalog, bundle.catalog);
  assert.deepEqual(Object.keys(bundle2.compiled).sort(), ['audiences', 'experiments', 'offers', 'placements', 'schema', 'suppressions']);
  const unchanged = await fetch(`${worker.base}/v1/bundle?format=2`, { headers: { 'if-none-match': etag2 } });
  assert.equal(unchanged.status, 304);
  const other = await fetch(`${worker.base}/v1/bundle?format=2`, { headers: { 'if-none-match': etag } });
  assert.equal(other.status, 200);
});

test('pages are filled at the edge, privately cacheable, with the state embedded', async () => {
  const r = await fetch(`${worker.base}/coats/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('cache-control'), /private/);
  const html = await r.text();
  const hero = html.match(/<section class="hero" data-rapport-placement="hero"([^>]*)>(.*?)<\/section>/s);
  assert.ok(hero, html);
  assert.match(hero[1], /data-rapport-offer="hero-coats"/);
  assert.match(hero[1], /data-rapport-decision="[0-9a-f]{16}"/);
  assert.equal(hero[2], '<h2>Coat &lt;weather&gt;: 10% off coats</h2>');
  const state = JSON.parse(html.match(/<script type="application\/json" id="rapport-state">(.*?)<\/script>/s)[1]);
  assert.equal(state.decisions[0].items[0].offer, 'hero-coats');
  const css = await fetch(`${worker.base}/style.css`);
  assert.equal(css.status, 200);
  assert.doesNotMatch(css.headers.get('cache-control') ?? '', /private/);
});

test('unknown API routes are 404 with a JSON error', async () => {
  const r = await fetch(`${worker.base}/v1/nothing`);
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.type, 'not_found');
});

test('in Chromium the SDK decides locally what the edge decided, and renders new placements', async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${worker.base}/coats/`);
    await page.waitForFunction(() => window.rapport);
    await page.evaluate(() => window.rapport.ready);
    const edgeDecision = await page.getAttribute('[data-rapport-placement="hero"]', 'data-rapport-decision');

    const local = await page.evaluate(() => window.rapport.decide('hero'));
    const expected = vectors.cases.find((c) => c.context.page.path === '/coats/' && c.placement === 'hero');
    assert.deepEqual(withoutId(local), withoutId(expected.expect));

    // The edge-filled hero is left alone: same decision id after the SDK started.
    assert.equal(await page.getAttribute('[data-rapport-placement="hero"]', 'data-rapport-decision'), edgeDecision);

    const rendered = await page.evaluate(() => {
      const el = document.createElement('div');
      el.id = 'late';
      el.dataset.rapportPlacement = 'notice';
      document.body.append(el);
      return window.rapport.render();
    });
    assert.equal(rendered.length, 1);
    assert.equal(await page.getAttribute('#late', 'data-rapport-offer'), 'notice-a');
    assert.equal(await page.textContent('#late'), '');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
