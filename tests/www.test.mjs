// The demo store, driven like a visitor would in headless Chromium against the real worker
// with its own demo catalog: every story Rapport is built for, by clicking. Each test saves a
// screenshot under target/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, adminToken, launchChromium, startWorker } from './support/wrangler.mjs';

const SHOTS = join(ROOT, 'target/screenshots');
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
let worker;
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  worker = await startWorker();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  worker?.stop();
});

async function open(path, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${worker.base}${path}`);
  await ready(page);
  return { context, page, errors };
}

/** Waits for the SDK on the current page (the snippet loads async). */
async function ready(page) {
  await page.waitForFunction(() => window.rapport);
  await page.evaluate(() => window.rapport.ready);
}

const hero = (page) => page.getAttribute('.hero', 'data-rapport-offer');
const heroText = (page) => page.textContent('.hero');
const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('a new visitor is welcomed, and running shoes turn the hero to running gear', async () => {
  const { context, page, errors } = await open('/');
  assert.match(await hero(page), /^hero-welcome/);
  await page.click('a[href="/running/"]');
  await page.waitForURL('**/running/');
  await ready(page);
  await page.click('button[data-rapport-prop-sku="RUN-1"][data-rapport-track="product_view"]');
  await page.waitForFunction(() => document.querySelector('.hero').dataset.rapportOffer === 'hero-running');
  assert.match(await heroText(page), /running shoes/i);
  await shot(page, '01-new-visitor-runner');
  assert.deepEqual(errors, []);
  await context.close();
});

test('three coat views earn the time-limited coat offer', async () => {
  const { context, page } = await open('/coats/');
  for (const sku of ['C-1', 'C-2', 'C-3']) {
    assert.notEqual(await hero(page), 'coats-15');
    await page.click(`button[data-rapport-prop-sku="${sku}"][data-rapport-track="product_view"]`);
  }
  await page.waitForFunction(() => document.querySelector('.hero').dataset.rapportOffer === 'coats-15');
  assert.match(await heroText(page), /15% off coats for the next hour/);
  await shot(page, '02-coat-moment');
  // The edge sees it too on the next page, once the batch has arrived.
  await page.waitForFunction(() => window.rapport.pending === 0);
  const html = await (await page.request.get(`${worker.base}/coats/`)).text();
  assert.match(html, /data-rapport-offer="coats-15"/);
  await context.close();
});

test('a support chat pauses promotions and shows an apology', async () => {
  const { context, page } = await open('/running/');
  await page.click('button[data-rapport-prop-sku="RUN-1"][data-rapport-track="product_view"]');
  await page.waitForFunction(() => document.querySelector('.hero').dataset.rapportOffer === 'hero-running');
  await page.click('#support');
  await page.waitForFunction(() => document.querySelector('.hero').dataset.rapportOffer === 'sorry-late');
  assert.match(await heroText(page), /Sorry your order is late/);
  const trace = await page.evaluate(() => window.rapport.decide('hero', { trace: true }).trace ?? []);
  const running = trace.find((t) => t.offer === 'hero-running');
  if (running) assert.equal(running.reason, 'suppressed by friction-pause');
  await page.goto(`${worker.base}/`);
  await ready(page);
  const notices = await page.$$eval('.notice [data-rapport-offer], .notice', (els) => els.map((e) => e.dataset.rapportOffer));
  assert.ok(!notices.includes('notice-shipping'), 'no promotion in the notice placement');
  await shot(page, '03-support-friction');
  await context.close();
});

test('checking in at the store brings the in-store offer', async () => {
  const { context, page } = await open('/');
  await page.check('#in-store');
  await page.waitForFunction(() => document.querySelector('.hero').dataset.rapportOffer === 'store-10');
  assert.match(await heroText(page), /10% off everything/);
  await shot(page, '04-in-store');
  await context.close();
});

test('a gold member who spent enough is welcomed by name', async () => {
  const { context, page } = await open('/');
  await page.fill('#sign-in input[name="id"]', `david-${Date.now()}`);
  await page.fill('#sign-in input[name="first_name"]', 'David');
  await page.selectOption('#sign-in select[name="tier"]', 'gold');
  await page.click('#sign-in button');
  await page.goto(`${worker.base}/tents/`);
  await ready(page);
  await page.click('button.add[data-sku="T-2"]');
  await page.click('button.add[data-sku="T-1"]');
  await page.goto(`${worker.base}/cart/`);
  await ready(page);
  await page.click('#checkout');
  await page.waitForFunction(() => document.querySelector('.hero').dataset.rapportOffer === 'gold-welcome');
  assert.match(await heroText(page), /Welcome back, David/);
  await shot(page, '05-gold-member');
  await context.close();
});

test('consent denied: generic content, signals change nothing', async () => {
  const { context, page } = await open('/coats/');
  await page.click('a[href="#privacy"]');
  await page.click('#consent-no');
  for (const sku of ['C-1', 'C-2', 'C-3']) {
    await page.click(`button[data-rapport-prop-sku="${sku}"][data-rapport-track="product_view"]`);
  }
  assert.notEqual(await hero(page), 'coats-15');
  assert.equal(await page.evaluate(() => window.rapport.profile().consent.personalization), 'denied');
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('rapport:'))), ['rapport:fragment']);
  await shot(page, '06-consent-denied');
  await context.close();
});

test('a crawler gets the house hero, straight from the edge', async () => {
  const r = await fetch(`${worker.base}/coats/`, { headers: { 'user-agent': GOOGLEBOT } });
  const html = await r.text();
  assert.match(html, /class="hero" data-rapport-placement="hero" data-rapport-offer="hero-welcome"/);
  assert.equal(r.headers.get('set-cookie'), null);
  const { context, page } = await open('/coats/', { userAgent: GOOGLEBOT });
  assert.equal(await hero(page), 'hero-welcome');
  await shot(page, '07-crawler');
  await context.close();
});

test('the debug panel shows the profile, audiences and why each offer was or was not chosen', async () => {
  const { context, page } = await open('/coats/?rapport_debug=1');
  await page.waitForSelector('#rapport-debug h4');
  const text = await page.textContent('#rapport-debug');
  assert.match(text, /Audiences/);
  assert.match(text, /coat_intent/);
  assert.match(text, /Decision: hero/);
  assert.match(text, /audience coat_intent is false/);
  await shot(page, '08-debug-panel');
  await context.close();
});

test('the playground checks a catalog as you type and replays a journey with every reason', async () => {
  const { context, page } = await open('/playground/');
  await page.waitForSelector('#playground[data-ready="true"]');
  assert.equal(await page.textContent('#catalog-status'), 'valid');
  const catalog = await page.inputValue('#catalog');
  await page.fill('#catalog', catalog.replace('"priority": 50', '"priority": "high"'));
  await page.waitForFunction(() => document.querySelector('#errors').textContent.includes('priority'));
  assert.match(await page.textContent('#errors'), /\/offers\/\d+\/priority: expected an integer/);
  await shot(page, '09-playground-error');
  await page.fill('#catalog', catalog);
  await page.waitForFunction(() => document.querySelector('#catalog-status').textContent === 'valid');
  await page.selectOption('#journey-pick', 'Three coat views within an hour');
  await page.click('#run');
  const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.equal(rows.length, 3);
  assert.doesNotMatch(rows[0][1], /coats-15/);
  assert.match(rows[0][2], /coats-15: audience coat_intent is false/);
  assert.match(rows[1][1], /hero: coats-15/);
  assert.doesNotMatch(rows[2][1], /coats-15/, 'the moment passes with the window');
  await shot(page, '10-playground-journey');
  await context.close();
});

test('the stats page charts click-through per offer with intervals, variants and days', async () => {
  // Traffic: a few visitors see the home page; one clicks the hero.
  for (let i = 0; i < 3; i++) {
    const { context, page } = await open('/');
    if (i === 0) await page.click('.hero');
    await page.waitForFunction(() => window.rapport.pending === 0);
    await context.close();
  }
  const stats = await (await fetch(`${worker.base}/v1/admin/stats`, { headers: { authorization: `Bearer ${adminToken()}` } })).json();
  const hero = Object.entries(stats.offers).filter(([id]) => id.startsWith('hero-welcome'));
  assert.ok(hero.reduce((n, [, c]) => n + c.impressions, 0) >= 3, JSON.stringify(stats));
  assert.ok(hero.reduce((n, [, c]) => n + c.clicks, 0) >= 1);
  assert.ok(Object.keys(stats.experiments['hero-copy']).length >= 1, 'impressions credited to variants');
  assert.equal((await fetch(`${worker.base}/v1/admin/stats`)).status, 401);

  const { context, page } = await open('/stats/');
  await page.fill('#token', adminToken());
  await page.click('#stats-form button');
  await page.waitForSelector('#offers svg rect.bar');
  assert.ok((await page.$$('#offers svg line.ci')).length >= 1);
  assert.ok((await page.$$('#variants svg rect.bar')).length >= 1);
  assert.equal((await page.$$('#days svg polyline.series')).length, 3);
  await shot(page, '11-stats');
  await context.close();

  // Publishing carries the counts into the bundle, for bandit ranking.
  const catalog = JSON.parse((await (await fetch(`${worker.base}/v1/bundle`)).text())).catalog;
  const put = await fetch(`${worker.base}/v1/admin/catalog`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken()}` },
    body: JSON.stringify(catalog),
  });
  assert.equal(put.status, 200);
  const bundle = await (await fetch(`${worker.base}/v1/bundle`)).json();
  assert.ok(Object.values(bundle.stats.offers).some((c) => c.impressions >= 3));
});
