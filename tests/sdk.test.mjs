// The browser SDK in headless Chromium against the real worker (wrangler dev): signals applied
// locally at once, batches reaching the edge exactly once, the offline queue, consent, SPA
// navigations and data-rapport-track clicks. Each test gets a fresh browser context (a new
// visitor); the catalog is the northwind example.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, publishExample, startWorker } from './support/wrangler.mjs';

let worker;
let browser;

before(async () => {
  worker = await startWorker();
  await publishExample(worker);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  worker?.stop();
});

async function visit(path = '/') {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const posted = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/events')) posted.push(JSON.parse(r.postData() ?? '{}'));
  });
  await page.goto(`${worker.base}${path}`);
  await page.waitForFunction(() => window.rapport);
  await page.evaluate(() => window.rapport.ready);
  return { context, page, errors, posted };
}

/** The edge's view of this visitor's profile, fetched with the page's cookie. */
const edgeProfile = (page) => page.evaluate(() => fetch('/v1/profile').then((r) => r.json()));
const drain = (page) => page.waitForFunction(() => window.rapport.pending === 0, null, { timeout: 10_000 });

test('a signal changes the very next decision, with no round trip', async () => {
  const { context, page, errors } = await visit('/coats/');
  const before = await page.evaluate(() => window.rapport.decide('hero').items[0].offer);
  assert.notEqual(before, 'coats-15');
  const after = await page.evaluate(() => {
    for (let i = 0; i < 3; i++) window.rapport.track('product_view', { category: 'coats', sku: `C-${i}` });
    return window.rapport.decide('hero').items[0].offer;
  });
  assert.equal(after, 'coats-15');
  assert.deepEqual(errors, []);
  await context.close();
});

test('start-up writes the fragment to storage once, however many signals it records', async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    window.__fragmentWrites = 0;
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
      if (key === 'rapport:fragment') window.__fragmentWrites++;
      return setItem.call(this, key, value);
    };
  });
  // Offline: a batch sent (and the write after it) would blur the count.
  await context.route('**/v1/events', (route) => route.abort());
  const page = await context.newPage();
  await page.goto(`${worker.base}/coats/`);
  await page.waitForFunction(() => window.rapport);
  await page.evaluate(() => window.rapport.ready);
  const writes = await page.evaluate(() => new Promise((resolve) => setTimeout(() => resolve(window.__fragmentWrites), 50)));
  assert.equal(writes, 1);
  const queued = await page.evaluate(() => JSON.parse(localStorage.getItem('rapport:queue')).map((e) => e.type));
  assert.ok(queued.includes('page_view'), `the page view is stored: ${queued}`);
  await context.close();
});

test('signals reach the edge in batches, each counted once even after the fragments merge', async () => {
  const { context, page, posted } = await visit('/coats/');
  await page.evaluate(() => {
    for (let i = 0; i < 3; i++) window.rapport.track('product_view', { category: 'coats', sku: `C-${i}` });
  });
  await drain(page);
  assert.ok(posted.some((b) => b.events.some((e) => e.type === 'page_view')), 'page_view sent without being asked');
  assert.ok(posted.every((b) => b.events.every((e) => e.origin?.startsWith('browser:'))), 'events carry their origin');
  assert.equal((await edgeProfile(page)).computed.coat_views_1h, 3);
  // Next page: the edge embeds its fragment, the SDK merges it with its own: still 3.
  await page.goto(`${worker.base}/coats/`);
  await page.waitForFunction(() => window.rapport);
  await page.evaluate(() => window.rapport.ready);
  assert.equal(await page.evaluate(() => window.rapport.profile().computed.coat_views_1h), 3);
  assert.match(await page.getAttribute('[data-rapport-placement="hero"]', 'data-rapport-offer'), /coats-15/);
  // A bad signal throws an Error named after the core's error kind, with the field at fault.
  const thrown = await page.evaluate(() => {
    try {
      window.rapport.track('not a type!', {});
    } catch (e) {
      return [e instanceof Error, e.name, e.message];
    }
  });
  assert.deepEqual(thrown, [true, 'invalid', '/type: type must match [A-Za-z0-9_.:-]{1,128}']);
  // The bundle the SDK loaded is the edge's browser bundle in format 2, by its version.
  const bundle = await (await fetch(`${worker.base}/v1/bundle?format=2`)).json();
  assert.equal(bundle.rapport_bundle, 2);
  assert.equal(await page.evaluate(() => window.rapport.version), bundle.version);
  await context.close();
});

test('offline, 100 events wait in localStorage and arrive once, in several batches, when the page comes back', async () => {
  const { context, page } = await visit('/');
  await drain(page);
  await context.setOffline(true);
  await page.evaluate(() => {
    for (let i = 0; i < 100; i++) window.rapport.track('product_view', { category: 'coats', sku: `O-${i}` });
    return window.rapport.flush();
  });
  // The demo site re-renders after each view, so impressions wait in the queue too.
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('rapport:queue')).filter((e) => e.type === 'product_view').length);
  assert.equal(stored, 100);
  await context.setOffline(false);
  await page.reload();
  await page.waitForFunction(() => window.rapport);
  await page.evaluate(() => window.rapport.ready);
  await drain(page);
  const profile = await edgeProfile(page);
  assert.equal(profile.computed.coat_views_1h, 100, 'delivered once, not lost, not doubled');
  await context.close();
});

test('consent denied: nothing stored but the consent record, no signal sent, context-only decisions', async () => {
  const { context, page, posted } = await visit('/');
  await drain(page);
  const sentBefore = posted.length;
  // Storage is cleared before consent() returns, not later in the task.
  const [consent, keys] = await page.evaluate(() => [
    window.rapport.consent({ personalization: 'denied' }),
    Object.keys(localStorage),
  ]);
  assert.equal(consent, 'denied');
  assert.deepEqual(keys, ['rapport:fragment']);
  await page.evaluate(() => {
    for (let i = 0; i < 3; i++) window.rapport.track('product_view', { category: 'coats' });
  });
  await drain(page);
  const storage = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
  assert.deepEqual(Object.keys(storage), ['rapport:fragment']);
  assert.deepEqual(Object.keys(JSON.parse(storage['rapport:fragment'])).sort(), ['consent', 'replica']);
  const sent = posted.slice(sentBefore).flatMap((b) => b.events.map((e) => e.type));
  assert.deepEqual(sent, ['consent'], 'only the consent record reaches the edge');
  const hero = await page.evaluate(() => window.rapport.decide('hero'));
  assert.equal(hero.experiment, null);
  assert.notEqual(hero.items[0].offer, 'coats-15');
  assert.equal((await edgeProfile(page)).consent.personalization, 'denied');
  await context.close();
});

test('SPA navigations and data-rapport-track clicks are recorded without being asked', async () => {
  const { context, page } = await visit('/coats/');
  await page.evaluate(() => {
    window.seen = [];
    window.rapport.on('event', (e) => window.seen.push(e));
  });
  await page.click('button[data-rapport-track="add_to_cart"]');
  await page.evaluate(() => history.pushState({}, '', '/tents/'));
  await page.waitForFunction(() => window.seen.some((e) => e.type === 'page_view'));
  const seen = await page.evaluate(() => window.seen.map((e) => ({ type: e.type, props: e.props })));
  assert.deepEqual(seen.find((e) => e.type === 'add_to_cart').props, { sku: 'C-1', category: 'coats' });
  assert.equal(seen.find((e) => e.type === 'page_view').props.path, '/tents/');
  await context.close();
});

test('clicks on rendered offers are recorded as clicks of that offer and decision', async () => {
  const { context, page } = await visit('/');
  const decision = await page.getAttribute('[data-rapport-placement="hero"]', 'data-rapport-decision');
  const offer = await page.getAttribute('[data-rapport-placement="hero"]', 'data-rapport-offer');
  await page.evaluate(() => {
    window.seen = [];
    window.rapport.on('event', (e) => window.seen.push(e));
  });
  await page.click('[data-rapport-placement="hero"]');
  const click = await page.evaluate(() => window.seen.find((e) => e.type === 'click'));
  assert.deepEqual(click.props, { offer, placement: 'hero', decision_id: decision });
  await context.close();
});

test('createRapport without wasmUrl says so, rather than guessing where the Wasm is', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${worker.base}/`);
  const message = await page.evaluate(async () => {
    const { createRapport } = await import('/sdk/rapport.mjs');
    try {
      createRapport({ endpoint: location.origin });
      return 'no error';
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  });
  assert.match(message, /^TypeError: rapport: createRapport needs wasmUrl/);
  await context.close();
});
