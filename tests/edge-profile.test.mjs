// The worker keeps profiles: signed visitor cookies, event ingestion (JSON and sendBeacon),
// profiles that drive decisions and fills, edge impressions that count toward caps, erasure,
// bots that write nothing, consent, and one person across two devices. Real workerd, real KV.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminToken, publishExample, startWorker } from './support/wrangler.mjs';

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
let worker;

before(async () => {
  worker = await startWorker();
  await publishExample(worker);
});
after(() => worker?.stop());

/** A browser-like visitor: keeps its cookie between requests. */
function visitor(userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0') {
  let cookie = null;
  let n = 0;
  const v = {
    get cookie() {
      return cookie;
    },
    set cookie(c) {
      cookie = c;
    },
    async fetch(path, init = {}) {
      const headers = { 'user-agent': userAgent, ...(init.headers ?? {}) };
      if (cookie) headers.cookie = cookie;
      const r = await fetch(`${worker.base}${path}`, { ...init, headers, redirect: 'manual' });
      const set = r.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0];
      return r;
    },
    async send(events, init = {}) {
      const batch = events.map((e) => ({ id: `${Date.now()}-${Math.random()}-${n++}`, ts: Date.now(), props: {}, ...e }));
      const r = await v.fetch('/v1/events', { method: 'POST', body: JSON.stringify({ events: batch }), ...init });
      return { status: r.status, body: await r.json() };
    },
    async decide(placement, path = '/') {
      const r = await v.fetch(`/v1/decide?placement=${placement}&path=${encodeURIComponent(path)}`);
      assert.equal(r.status, 200);
      return (await r.json()).decisions[0];
    },
    async profile() {
      const r = await v.fetch('/v1/profile');
      assert.equal(r.status, 200);
      return r.json();
    },
  };
  return v;
}

const coatView = { type: 'product_view', props: { category: 'coats', sku: 'C-1' } };

test('a first visit gets a signed, HttpOnly, SameSite=Lax cookie; a tampered one is replaced', async () => {
  const r = await fetch(`${worker.base}/v1/decide?placement=hero`);
  const set = r.headers.get('set-cookie');
  assert.match(set, /^rapport_vid=[0-9a-f]{32}\.[0-9a-f]{32}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
  const good = set.split(';')[0];
  const again = await fetch(`${worker.base}/v1/decide?placement=hero`, { headers: { cookie: good } });
  assert.equal(again.headers.get('set-cookie'), null, 'a valid cookie is kept');
  const tampered = good.replace(/=([0-9a-f])/, (_, c) => `=${c === 'a' ? 'b' : 'a'}`);
  const forged = await fetch(`${worker.base}/v1/decide?placement=hero`, { headers: { cookie: tampered } });
  const fresh = forged.headers.get('set-cookie');
  assert.ok(fresh, 'a tampered cookie gets a fresh id');
  assert.notEqual(fresh.split(';')[0].split('.')[0], tampered.split('.')[0]);
});

test('a batch keeps its good events and names the field of each bad one', async () => {
  const v = visitor();
  const { status, body } = await v.send([coatView, { type: 'product_view', ts: 'yesterday' }, { type: 'set', props: { tier: 'gold' } }]);
  assert.equal(status, 202);
  assert.equal(body.accepted, 2);
  assert.equal(body.rejected.length, 1);
  assert.equal(body.rejected[0].index, 1);
  assert.equal(body.rejected[0].error.path, '/events/1/ts');
  const profile = await v.profile();
  assert.equal(profile.attributes.tier, 'gold');
});

test('sendBeacon bodies (text/plain) are accepted; oversized and malformed bodies are refused', async () => {
  const v = visitor();
  const body = JSON.stringify({ events: [{ id: 'beacon-1', type: 'page_view', ts: Date.now(), props: { path: '/' } }] });
  const beacon = await v.fetch('/v1/events', { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body });
  assert.equal(beacon.status, 202);
  assert.equal((await beacon.json()).accepted, 1);
  const big = JSON.stringify({ events: [{ id: 'x', type: 'page_view', ts: 1, props: { pad: 'x'.repeat(70 * 1024) } }] });
  assert.equal((await v.fetch('/v1/events', { method: 'POST', body: big })).status, 413);
  const many = JSON.stringify({ events: Array.from({ length: 101 }, (_, i) => ({ id: `m${i}`, type: 'x', ts: 1 })) });
  assert.equal((await v.fetch('/v1/events', { method: 'POST', body: many })).status, 400);
  const broken = await v.fetch('/v1/events', { method: 'POST', body: '{"events": [' });
  assert.equal(broken.status, 400);
  assert.equal((await broken.json()).error.type, 'parse');
});

test('retried batches are counted once', async () => {
  const v = visitor();
  const events = [0, 1, 2].map((i) => ({ id: `retry-${i}-${Date.now()}`, ts: Date.now(), ...coatView }));
  const body = JSON.stringify({ events });
  for (let i = 0; i < 3; i++) assert.equal((await v.fetch('/v1/events', { method: 'POST', body })).status, 202);
  assert.equal((await v.profile()).computed.coat_views_1h, 3);
});

test('three coat views earn the coat offer at the edge; edge impressions count toward its cap', async () => {
  const v = visitor();
  assert.equal((await v.decide('hero')).items[0].offer !== 'coats-15', true);
  await v.send([coatView, coatView, coatView]);
  assert.equal((await v.decide('hero', '/coats/')).items[0].offer, 'coats-15');
  for (let i = 0; i < 3; i++) {
    const html = await (await v.fetch('/coats/')).text();
    assert.match(html, /data-rapport-offer="coats-15"/, `page view ${i + 1}`);
  }
  // The cap is 3 impressions a day: the fourth page shows something else.
  const html = await (await v.fetch('/coats/')).text();
  assert.doesNotMatch(html, /data-rapport-offer="coats-15"/);
  const state = JSON.parse(html.match(/id="rapport-state">(.*?)<\/script>/s)[1]);
  assert.ok(state.fragment.computed, 'the edge fragment is embedded for the SDK');
});

test('a visitor erases their profile', async () => {
  const v = visitor();
  await v.send([{ type: 'set', props: { first_name: 'Erin' } }]);
  assert.equal((await v.profile()).attributes.first_name, 'Erin');
  const erased = v.cookie;
  const r = await v.fetch('/v1/profile', { method: 'DELETE' });
  assert.equal(r.status, 204);
  assert.match(r.headers.get('set-cookie'), /Max-Age=0/);
  assert.deepEqual((await v.profile()).attributes, {});
  // A request still in flight under the erased id cannot bring the profile back.
  v.cookie = erased;
  const late = await v.send([{ type: 'set', props: { first_name: 'Erin' } }]);
  assert.equal(late.status, 202);
  assert.deepEqual((await v.profile()).attributes, {});
});

test('a batch that repeats an event id, sent twice, counts it once in the offer stats', async () => {
  const stats = async () => {
    const r = await fetch(`${worker.base}/v1/admin/stats`, { headers: { authorization: `Bearer ${adminToken()}` } });
    return (await r.json()).offers?.['coats-15']?.clicks ?? 0;
  };
  const before = await stats();
  const v = visitor();
  const click = { id: `twice-${Date.now()}`, ts: Date.now(), type: 'click', props: { offer: 'coats-15', placement: 'hero', decision_id: 'd' } };
  const body = JSON.stringify({ events: [click, click] });
  for (let i = 0; i < 2; i++) {
    // The second time is a retry: the worker passes its events on again (a request that failed
    // after the profile was stored must still be counted) and the stats object counts once.
    const r = await v.fetch('/v1/events', { method: 'POST', body });
    assert.equal(r.status, 202);
    assert.equal((await r.json()).accepted, 2, 'both taken: the second as a duplicate');
    assert.equal(await stats(), before + 1);
  }
});

test('crawlers get fallbacks, no cookie, and write nothing', async () => {
  const bot = visitor(GOOGLEBOT);
  const r = await bot.fetch('/coats/');
  assert.equal(r.headers.get('set-cookie'), null);
  assert.match(await r.text(), /data-rapport-offer="hero-welcome"/);
  const { body } = await bot.send([coatView]);
  assert.equal(body.accepted, 0);
  assert.equal(body.dropped.length, 1);
});

test('without consent nothing but the consent record is kept', async () => {
  const v = visitor();
  await v.send([{ type: 'consent', props: { personalization: 'denied' } }]);
  const { body } = await v.send([coatView, coatView, coatView]);
  assert.equal(body.accepted, 0);
  assert.equal(body.dropped.length, 3);
  const profile = await v.profile();
  assert.equal(profile.consent.personalization, 'denied');
  assert.equal(profile.computed.coat_views_1h, 0);
  assert.equal((await v.decide('hero', '/coats/')).experiment, null);
});

test('one person on two devices: identifying on the second brings the first one\'s history', async () => {
  const crm = `crm-${Date.now()}`;
  const phone = visitor();
  await phone.send([
    { type: 'identify', props: { namespace: 'crm', id: crm, traits: { first_name: 'David', tier: 'gold' } } },
    { type: 'purchase', props: { total: 520 } },
  ]);
  const laptop = visitor();
  await laptop.send([{ type: 'identify', props: { namespace: 'crm', id: crm } }]);
  const profile = await laptop.profile();
  assert.equal(profile.computed.spend_30d, 520);
  assert.equal(profile.attributes.first_name, 'David');
  const hero = await laptop.decide('hero');
  assert.equal(hero.items[0].offer, 'gold-welcome');
  assert.match(hero.items[0].content.html, /Welcome back, David/);
});

test('1,000 simultaneous batches for one visitor: every event counted once, retries too', async () => {
  const v = visitor();
  await v.decide('hero'); // the cookie
  const start = Date.now();
  const bodies = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({ events: [{ id: `burst-${start}-${i}`, ts: start + i, ...coatView }] }));
  // As the SDK does: a batch that fails (under this load workerd may shed a request with a 503
  // that asks for a retry, or drop a connection) is sent again, after a pause, until the edge
  // takes it.
  const send = async (body) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await v.fetch('/v1/events', { method: 'POST', body });
        if (r.status === 202 || attempt === 5) return { status: r.status, body: await r.json(), attempt };
        await r.arrayBuffer();
      } catch (e) {
        if (attempt === 5) throw e;
      }
      await new Promise((ok) => setTimeout(ok, 100 * 2 ** attempt));
    }
  };
  const results = await Promise.all(bodies.map(send));
  assert.deepEqual(results.filter((r) => r.status !== 202), []);
  // A retried batch may already have been applied before its request failed: it is then a
  // duplicate, or refused as older than the ids the fragment remembers; never counted again.
  const unexpected = results.filter((r) => r.attempt === 0).flatMap((r) => r.body.dropped);
  assert.deepEqual(unexpected, []);
  assert.equal((await v.profile()).computed.coat_views_1h, 1000);
  // The first 100 again, all at once: counted once already.
  const again = await Promise.all(bodies.slice(0, 100).map(send));
  assert.deepEqual(again.filter((r) => r.status !== 202), []);
  assert.equal((await v.profile()).computed.coat_views_1h, 1000);
});
