// The bad-input matrix: malformed, huge, deeply nested and wrongly typed input, odd unicode,
// tampered cookies, wrong tokens, oversized batches, invalid catalogs, concurrent publishes and
// broken HTML around placements, against the real worker. Every case gets the right status and
// a clear message, the good events of a mixed batch are kept, and the worker keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, adminToken, startWorker } from './support/wrangler.mjs';

const catalog = JSON.parse(readFileSync(join(ROOT, 'examples/northwind.catalog.json'), 'utf8'));
let worker;
let cookie;

before(async () => {
  worker = await startWorker();
  const r = await fetch(`${worker.base}/v1/decide?placement=hero`);
  cookie = r.headers.get('set-cookie').split(';')[0];
});
after(() => worker?.stop());

const ev = (over = {}) => ({ id: `e-${Math.random()}`, type: 'product_view', ts: Date.now(), props: { category: 'coats' }, ...over });
const batch = (events) => JSON.stringify({ events });
const nested = (depth) => '['.repeat(depth) + ']'.repeat(depth);

/** [name, request, expected status, check of the JSON answer (optional)] */
const rejectedAt = (path) => (body) => {
  assert.equal(body.accepted, 0);
  assert.equal(body.rejected.length, 1);
  assert.equal(body.rejected[0].error.path, path);
  assert.ok(body.rejected[0].error.message.length > 5);
};
const errorType = (type) => (body) => assert.equal(body.error.type, type);
const events = (body, headers = {}) => ({ method: 'POST', path: '/v1/events', body, headers });

const cases = [
  ['events: malformed JSON', events('{"events": ['), 400, errorType('parse')],
  ['events: empty body', events(''), 400, errorType('parse')],
  ['events: null', events('null'), 400],
  ['events: a number', events('42'), 400],
  ['events: events is a string', events('{"events": "x"}'), 400],
  ['events: events is an object', events('{"events": {}}'), 400],
  ['events: a bare array is a batch', events('[]'), 202],
  ['events: 101 events', events(batch(Array.from({ length: 101 }, () => ev()))), 400, errorType('too_large')],
  ['events: 70 KiB body', events(batch([ev({ props: { pad: 'x'.repeat(70 * 1024) } })])), 413, errorType('too_large')],
  ['events: 10,000 levels of nesting', events(`{"events": ${nested(10000)}}`), 400, errorType('parse')],
  ['events: lone surrogate', events('{"events": [{"id": "a", "type": "x", "ts": 1, "props": {"s": "\\ud800"}}]}'), 400],
  ['event: no id', events(batch([{ type: 'x', ts: 1 }])), 202, rejectedAt('/events/0/id')],
  ['event: empty id', events(batch([ev({ id: '' })])), 202, rejectedAt('/events/0/id')],
  ['event: 200-byte id', events(batch([ev({ id: 'i'.repeat(200) })])), 202, rejectedAt('/events/0/id')],
  ['event: numeric id', events(batch([ev({ id: 7 })])), 202, rejectedAt('/events/0/id')],
  ['event: no type', events(batch([{ id: 'a', ts: 1 }])), 202, rejectedAt('/events/0/type')],
  ['event: type with a space', events(batch([ev({ type: 'product view' })])), 202, rejectedAt('/events/0/type')],
  ['event: numeric type', events(batch([ev({ type: 3 })])), 202, rejectedAt('/events/0/type')],
  ['event: ts is a string', events(batch([ev({ ts: 'now' })])), 202, rejectedAt('/events/0/ts')],
  ['event: negative ts', events(batch([ev({ ts: -5 })])), 202, rejectedAt('/events/0/ts')],
  ['event: fractional ts', events(batch([ev({ ts: 1.5 })])), 202, rejectedAt('/events/0/ts')],
  ['event: ts in 1e20', events(batch([ev({ ts: 1e20 })])), 202, rejectedAt('/events/0/ts')],
  ['event: props is an array', events(batch([ev({ props: [1] })])), 202, rejectedAt('/events/0/props')],
  ['event: 65 props', events(batch([ev({ props: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) })])), 202, rejectedAt('/events/0/props')],
  ['event: 5 KiB of props', events(batch([ev({ props: { pad: 'x'.repeat(5000) } })])), 202, rejectedAt('/events/0/props')],
  ['event: unknown field', events(batch([ev({ tss: 1 })])), 202, rejectedAt('/events/0/tss')],
  ['event: consent maybe', events(batch([ev({ type: 'consent', props: { personalization: 'maybe' } })])), 202, rejectedAt('/events/0/props/personalization')],
  ['event: identify without id', events(batch([ev({ type: 'identify', props: { namespace: 'crm' } })])), 202, rejectedAt('/events/0/props/id')],
  ['event: identify with a bad namespace', events(batch([ev({ type: 'identify', props: { namespace: 'c r m', id: '1' } })])), 202, rejectedAt('/events/0/props/namespace')],
  ['event: impression without offer', events(batch([ev({ type: 'impression', props: { placement: 'hero' } })])), 202, rejectedAt('/events/0/props/offer')],
  ['event: attribute value too long', events(batch([ev({ type: 'set', props: { bio: 'b'.repeat(200) } })])), 202, rejectedAt('/events/0/props/bio')],
  ['event: attribute name with a space', events(batch([ev({ type: 'set', props: { 'first name': 'x' } })])), 202, rejectedAt('/events/0/props/first name')],
  ['event: odd unicode is kept', events(batch([ev({ props: { s: 'ẞ 🧥 \u202e עברית \u0000' } })])), 202, (b) => assert.equal(b.accepted, 1)],
  ['event: the origin is a replica name', events(batch([ev({ origin: 'browser d1' })])), 202, rejectedAt('/events/0/origin')],
  ['admin: no token', { method: 'PUT', path: '/v1/admin/catalog', body: JSON.stringify(catalog) }, 401, errorType('unauthorized')],
  ['admin: wrong token', { method: 'PUT', path: '/v1/admin/catalog', body: '{}', headers: { authorization: 'Bearer nope' } }, 401],
  ['admin: empty bearer', { method: 'PUT', path: '/v1/admin/catalog', body: '{}', headers: { authorization: 'Bearer ' } }, 401],
  ['admin: token without the scheme', { method: 'PUT', path: '/v1/admin/catalog', body: '{}', headers: { authorization: adminToken() } }, 401],
  ['admin: stats without a token', { method: 'GET', path: '/v1/admin/stats' }, 401],
  ['admin: catalog is not JSON', { method: 'PUT', path: '/v1/admin/catalog', body: '{"catalog": ', admin: true }, 400, (b) => assert.equal(b.errors[0].type, 'parse')],
  ['admin: catalog is an array', { method: 'PUT', path: '/v1/admin/catalog', body: '[]', admin: true }, 400],
  ['admin: unknown fields', { method: 'PUT', path: '/v1/admin/catalog', body: JSON.stringify({ ...catalog, ofers: [] }), admin: true }, 400, (b) => assert.equal(b.errors[0].path, '/ofers')],
  ['admin: an audience cycle', { method: 'PUT', path: '/v1/admin/catalog', body: JSON.stringify({ ...catalog, audiences: { ...catalog.audiences, a: { audience: 'b' }, b: { audience: 'a' } } }), admin: true }, 400, (b) => assert.match(b.errors.map((e) => e.message).join(), /cycle/)],
  ['admin: a rule with an unknown operator', { method: 'PUT', path: '/v1/admin/catalog', body: JSON.stringify({ ...catalog, audiences: { ...catalog.audiences, x: { regex: ['a', 'b'] } } }), admin: true }, 400, (b) => assert.ok(b.errors[0].path.startsWith('/audiences/x'), b.errors[0].path)],
  ['admin: weights summing to 0', { method: 'PUT', path: '/v1/admin/catalog', body: JSON.stringify({ ...catalog, experiments: [{ ...catalog.experiments[0], variants: [{ id: 'a', weight: 0 }] }] }), admin: true }, 400],
  ['admin: a weight past 2^53', { method: 'PUT', path: '/v1/admin/catalog', body: JSON.stringify({ ...catalog, experiments: [{ ...catalog.experiments[0], variants: [{ id: 'a', weight: 5e75 }, { id: 'b', weight: 50 }] }] }), admin: true }, 400, (b) => assert.match(b.errors.map((e) => `${e.path} ${e.message}`).join(), /variants .*at most 9007199254740992/)],
  ['admin: JSON nested past the parser\'s limit', { method: 'PUT', path: '/v1/admin/catalog', body: '{"catalog": "x", "audiences": {"deep": ' + '{"!":'.repeat(300) + 'true' + '}'.repeat(300) + '}}', admin: true }, 400, (b) => assert.equal(b.errors[0].type, 'parse')],
  ['decide: no placement', { method: 'GET', path: '/v1/decide' }, 200, (b) => assert.deepEqual(b.decisions, [])],
  ['decide: an unknown placement', { method: 'GET', path: '/v1/decide?placement=nope' }, 200, (b) => assert.equal(b.decisions[0].error.type, 'not_found')],
  ['decide: 50 placements', { method: 'GET', path: `/v1/decide?${Array.from({ length: 50 }, () => 'placement=hero').join('&')}` }, 200, (b) => assert.equal(b.decisions.length, 50)],
  ['decide: a unicode path', { method: 'GET', path: `/v1/decide?placement=hero&path=${encodeURIComponent('/mäntel/🧥')}` }, 200],
  ['decide: a tampered cookie', { method: 'GET', path: '/v1/decide?placement=hero', tamper: true }, 200],
  ['decide: a garbage cookie', { method: 'GET', path: '/v1/decide?placement=hero', headers: { cookie: 'rapport_vid=%%%; other=1' } }, 200],
  ['decide: an 8 KiB cookie header', { method: 'GET', path: '/v1/decide?placement=hero', headers: { cookie: `junk=${'j'.repeat(8000)}` } }, 200],
  ['route: POST /v1/decide', { method: 'POST', path: '/v1/decide', body: '{}' }, 405, errorType('method_not_allowed')],
  ['route: GET /v1/events', { method: 'GET', path: '/v1/events' }, 405],
  ['route: DELETE /v1/bundle', { method: 'DELETE', path: '/v1/bundle' }, 405],
  ['route: an unknown API path', { method: 'GET', path: '/v1/nothing' }, 404, errorType('not_found')],
  ['profile: read without a cookie', { method: 'GET', path: '/v1/profile', anonymous: true }, 200, (b) => assert.deepEqual(b.attributes, {})],
  ['profile: erase without a cookie', { method: 'DELETE', path: '/v1/profile', anonymous: true }, 204],
  ['page: broken markup around placements', { method: 'GET', path: '/fixtures/broken/' }, 200],
  ['page: a missing page passes through', { method: 'GET', path: '/no/such/page' }, 404],
];

async function send(c) {
  const headers = { ...(c.headers ?? {}) };
  if (!c.anonymous && !headers.cookie) headers.cookie = c.tamper ? cookie.replace(/.$/, (x) => (x === '0' ? '1' : '0')) : cookie;
  if (c.admin) headers.authorization = `Bearer ${adminToken()}`;
  return fetch(`${worker.base}${c.path}`, { method: c.method, headers, body: c.body });
}

test(`the matrix has at least 50 cases (${cases.length})`, () => assert.ok(cases.length >= 50));

for (const [name, request, status, check] of cases) {
  test(name, async () => {
    const r = await send(request);
    const text = await r.text();
    assert.equal(r.status, status, text.slice(0, 300));
    if (check) check(JSON.parse(text));
    if (request.tamper) assert.ok(r.headers.get('set-cookie'), 'a tampered cookie gets a fresh id');
  });
}

test('a mixed batch keeps its good events', async () => {
  const good = [ev({ id: `g1-${Date.now()}` }), ev({ id: `g2-${Date.now()}` })];
  const r = await send(events(batch([good[0], { id: 'bad', type: 'x' }, good[1]])));
  const body = await r.json();
  assert.equal(r.status, 202);
  assert.equal(body.accepted, 2);
  assert.deepEqual(body.rejected.map((x) => x.index), [1]);
  const profile = await (await send({ method: 'GET', path: '/v1/profile' })).json();
  assert.ok(profile.computed.coat_views_1h >= 2);
});

test('broken markup still gets its placements filled and the state embedded', async () => {
  const html = await (await send({ method: 'GET', path: '/fixtures/broken/' })).text();
  assert.match(html, /data-rapport-placement=hero[^>]*data-rapport-offer="/);
  assert.match(html, /data-rapport-placement="no-such-placement"[^>]*data-rapport-decision=/);
  assert.match(html, /kept as it is/);
  assert.match(html, /id="rapport-state"/);
});

test('two publishes at once: both validate, one wins whole, and the worker keeps serving', async () => {
  const a = { ...catalog, catalog: 'publish-a' };
  const b = { ...catalog, catalog: 'publish-b' };
  const put = (c) => send({ method: 'PUT', path: '/v1/admin/catalog', body: JSON.stringify(c), admin: true });
  const [ra, rb] = await Promise.all([put(a), put(b)]);
  assert.equal(ra.status, 200);
  assert.equal(rb.status, 200);
  const served = await (await fetch(`${worker.base}/v1/bundle`)).json();
  assert.ok(['publish-a', 'publish-b'].includes(served.catalog.catalog));
  assert.equal((await fetch(`${worker.base}/`)).status, 200);
});

test('after every bad input, the worker still serves', async () => {
  assert.equal((await fetch(`${worker.base}/`)).status, 200);
  assert.equal((await fetch(`${worker.base}/v1/decide?placement=hero`)).status, 200);
});
