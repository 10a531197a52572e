// The browser SDK's JS half. The Wasm core decides and keeps the profile; this file wires it to
// the page: start-up (the edge's embedded state, else GET /v1/bundle), storage, signals captured
// without being asked, the event queue to the edge, and the public API of contract §7.
import init, { Engine, pageContext } from 'rapport-wasm';

const KEY = { device: 'rapport:device', fragment: 'rapport:fragment', queue: 'rapport:queue' };
const BATCH = 50;
const MAX_QUEUE = 500;
const FLUSH_DELAY_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

const store = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {}
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {}
  },
};

/** A decision's randomness: 53 random bits, a whole number that crosses into Wasm exactly. */
const randomSeed = () => {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return high * 2 ** 21 + (low >>> 11);
};

const randomId = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
};

/**
 * Asks the engine for `op` (`Engine::run` in web-sdk/src/lib.rs has the list): one export instead
 * of one per operation, whose glue would cost more than this file's logic. Text arguments are
 * joined by NUL, which JSON text never holds raw; an argument that holds one anyway (a placement
 * name a page set) is passed as '', so it cannot shift the others. A failure comes back as NUL,
 * kind, NUL, message, and is thrown as an `Error` named after the kind.
 */
const call = (engine, op, now, seed, ...args) => {
  const text = args.map((a) => (a.includes('\0') ? '' : a)).join('\0');
  const out = engine.call(op, text, now ?? 0, seed ?? 0);
  if (out[0] !== '\0') return out;
  const at = out.indexOf('\0', 1);
  const error = new Error(out.slice(at + 1));
  error.name = out.slice(1, at);
  throw error;
};

/** A new engine with `bundle` (JSON text) loaded; throws what is wrong with it. */
const open = (bundle) => {
  const engine = new Engine();
  try {
    call(engine, 'bundle', 0, 0, bundle);
    return engine;
  } catch (error) {
    engine.free();
    throw error;
  }
};

/** The rule context for this page, as the edge derives it from a request. */
const pageFacts = () =>
  pageContext([location.href, location.pathname, document.referrer, document.title, navigator.userAgent].join('\0'));

function edgeState() {
  const el = document.getElementById('rapport-state');
  if (!el) return null;
  try {
    return JSON.parse(el.textContent);
  } catch {
    return null;
  }
}

// A bundle (format 2) whose compiled form uses what a real one does (a computed value, an
// audience, rules, a cap, a suppression, a template; its catalog holds only what deciding reads
// from one), for warm(). web-sdk/tests/node.rs checks that it loads and decides.
const WARM = '{"rapport_bundle":2,"version":"warm","catalog":{"catalog":"warm","audiences":{"a":{}},"offers":[{"id":"o","placements":["p"],"audience":"a","tags":["t"],"content":{"html":"<b>{{ context.path | / }}</b>"}},{"id":"f","placements":["p"],"content":{"html":"-"}}],"suppressions":[{"id":"s","tags":["u"]}]},"compiled":{"audiences":[[">=",["var","computed.views"],1]],"offers":[{"audience":0,"eligibility":["==",["var","context.device"],"desktop"],"limits":[["~c",3,"c"]]},{"limits":[]}],"placements":{"p":{"offers":[1,0],"max_items":1,"ranking":"priority"}},"suppressions":[{"when":["audience",0],"tags":["u"]}],"experiments":[],"schema":{"computed":[["views","page_view",null,"count",[],3600000],["~c","impression",{"offers":["o"]},"count",[],86400000]],"session_timeout":1800000,"unique_namespaces":["crm"],"consent_default":"pending","opt_in_countries":[],"precedence":null}}}';

/**
 * Runs the engine once on WARM, while /v1/bundle is still downloading. Chromium compiles each
 * Wasm function the first time it is called, on the main thread: that was half of the SDK's own
 * start-up, now done while it would otherwise wait. Nothing of it is kept.
 */
function warm() {
  let engine = null;
  try {
    engine = open(WARM);
    call(engine, 'load', 0, 0, 'browser:warm', 'warm', '', '');
    call(engine, 'track', 0, 0, JSON.stringify({ id: 'warm', type: 'page_view', ts: Date.now(), props: {} }));
    call(engine, 'decide', Date.now(), 1, 'p', pageFacts(), '');
    call(engine, 'fragment');
  } catch {
    // Only a head start: the real start-up reports its own errors.
  } finally {
    engine?.free();
  }
}

function domReady() {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
}

/**
 * Creates a Rapport instance.
 * @param {{ wasmUrl: string | URL, endpoint: string | URL, autoTrack?: boolean }} options
 */
export function createRapport({ wasmUrl, endpoint, autoTrack = true }) {
  if (!wasmUrl) throw new TypeError('rapport: createRapport needs wasmUrl, the URL of rapport_bg.wasm');
  let engine = null;
  let replica = null;
  let queue = [];
  let timer = null;
  let backoff = FLUSH_DELAY_MS;
  let sending = false;
  const listeners = new Map();
  const api = {};

  const emit = (name, detail) => (listeners.get(name) ?? []).forEach((fn) => fn(detail));
  const need = () => {
    if (!engine) throw new Error('rapport: not ready; await rapport.ready first');
    return engine;
  };
  let extra = {};
  const context = () => ({
    ...JSON.parse(pageFacts()),
    ...extra,
  });
  const granted = () => engine && call(engine, 'consent') === 'granted';

  /** Keeps what consent allows: everything when granted, else only the consent record. */
  let dirty = false;
  const persist = () => {
    dirty = false;
    store.set(KEY.fragment, call(engine, 'fragment'));
    if (granted()) {
      store.set(KEY.device, replica.slice('browser:'.length));
      store.set(KEY.queue, JSON.stringify(queue));
    } else {
      store.remove(KEY.device);
      store.remove(KEY.queue);
    }
  };

  /**
   * Persists once at the end of the current task, however many events it recorded: a page
   * view and its impressions at start-up are one write, not one each.
   */
  const persistSoon = () => {
    if (dirty) return;
    dirty = true;
    // Skipped when a direct persist() came first (consent writes at once).
    queueMicrotask(() => dirty && persist());
  };

  const schedule = (delay) => {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  };

  /** Sends queued events; keeps them until the edge answers, so nothing is lost offline. */
  async function flush() {
    if (sending || queue.length === 0) return;
    sending = true;
    const batch = queue.slice(0, BATCH);
    // The fragment rides along with the batch that empties the queue: the edge merges it after
    // the events, which heals whatever it missed. With events still queued it must not: it
    // already counts them, and the edge could not tell when they arrive that they are in it.
    const fragment = granted() && batch.length === queue.length;
    try {
      const r = await fetch(new URL('/v1/events', endpoint), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fragment ? { events: batch, fragment: JSON.parse(call(engine, 'fragment')) } : { events: batch }),
        credentials: 'include',
        keepalive: true,
      });
      if (r.status >= 500) throw new Error(`rapport: POST /v1/events answered ${r.status}`);
      // 2xx, or a 4xx for a batch the edge will never take: either way it is done with.
      const sent = new Set(batch.map((e) => e.id));
      queue = queue.filter((e) => !sent.has(e.id));
      backoff = FLUSH_DELAY_MS;
      persist();
      if (queue.length) schedule(0);
    } catch {
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      schedule(backoff);
    } finally {
      sending = false;
    }
  }

  /** Applies an event at once (the next decision sees it) and queues it for the edge. */
  const record = (type, props = {}) => {
    const e = need();
    const event = { id: randomId(), type, ts: Date.now(), props };
    const result = JSON.parse(call(e, 'track', 0, 0, JSON.stringify(event)));
    // Without consent nothing is sent but the consent record itself.
    if (result.outcome === 'applied' && (granted() || type === 'consent')) {
      queue.push(result.event);
      if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
      schedule(type === 'consent' ? 0 : FLUSH_DELAY_MS);
    }
    persistSoon();
    emit('event', { ...result.event, outcome: result.outcome });
    return result;
  };

  /** Impressions of what the SDK rendered (the edge records its own). */
  const rendered = (decisions) => {
    for (const d of decisions) {
      for (const item of d.items) {
        record('impression', { offer: item.offer, placement: d.placement, decision_id: d.decision_id });
      }
      emit('decision', d);
    }
    return decisions;
  };

  const onClick = (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target || !engine) return;
    const offer = target.closest('[data-rapport-offer][data-rapport-decision]');
    if (offer) {
      record('click', {
        offer: offer.getAttribute('data-rapport-offer'),
        placement: offer.getAttribute('data-rapport-placement'),
        decision_id: offer.getAttribute('data-rapport-decision'),
      });
    }
    const tracked = target.closest('[data-rapport-track]');
    if (tracked) {
      const props = {};
      for (const [k, v] of Object.entries(tracked.dataset)) {
        if (k.startsWith('rapportProp') && k.length > 11) props[k[11].toLowerCase() + k.slice(12)] = v;
      }
      record(tracked.getAttribute('data-rapport-track'), props);
    }
  };

  const pageView = () => {
    record('page_view', { path: location.pathname, url: location.href, referrer: document.referrer, title: document.title });
    api.render();
  };

  const watchNavigation = () => {
    for (const method of ['pushState', 'replaceState']) {
      const original = history[method];
      history[method] = function (...args) {
        const before = location.href;
        const result = original.apply(this, args);
        if (location.href !== before) queueMicrotask(pageView);
        return result;
      };
    }
    addEventListener('popstate', () => queueMicrotask(pageView));
    document.addEventListener('click', onClick, true);
    addEventListener('pagehide', () => {
      if (queue.length && navigator.sendBeacon) {
        navigator.sendBeacon(new URL('/v1/events', endpoint), JSON.stringify({ events: queue.slice(0, BATCH) }));
      }
    });
  };

  const start = async () => {
    let arrived = false;
    const download = fetch(new URL('/v1/bundle?format=2', endpoint), { credentials: 'include' }).then((r) => {
      if (!r.ok) throw new Error(`rapport: GET /v1/bundle?format=2 answered ${r.status}`);
      return r.text().then((text) => ((arrived = true), text));
    });
    download.catch(() => {}); // Awaited below; this only keeps a failure from being "unhandled".
    await init({ module_or_path: wasmUrl });
    if (!arrived) warm();
    const [bundle] = await Promise.all([download, domReady()]);
    engine = open(bundle);
    const state = edgeState();
    const device = store.get(KEY.device) ?? randomId();
    replica = `browser:${device}`;
    const edgeFragment = state?.fragment ? JSON.stringify(state.fragment) : '';
    call(engine, 'load', 0, 0, replica, device, store.get(KEY.fragment) ?? '', edgeFragment);
    try {
      queue = JSON.parse(store.get(KEY.queue) ?? '[]');
    } catch {
      queue = [];
    }
    api.state = state;
    // Events still queued are events the edge decided without: decide every placement again.
    const stale = queue.length > 0;
    if (autoTrack) {
      watchNavigation();
      record('page_view', { path: location.pathname, url: location.href, referrer: document.referrer, title: document.title });
    }
    if (stale) api.refresh();
    else api.render();
    persistSoon();
    if (queue.length) schedule(0);
    emit('ready', api);
    return api;
  };

  /** Decides one placement locally, synchronously (after `ready`); `trace` explains every offer not chosen. */
  api.decide = (placement, { trace = false } = {}) =>
    JSON.parse(call(need(), 'decide', Date.now(), randomSeed(), placement, JSON.stringify(context()), trace ? 'trace' : ''));
  /**
   * Fills every placement the edge did not fill (no `data-rapport-decision`) from local
   * decisions; returns the decisions made. The HTML comes escaped from the core's templates.
   */
  api.render = () => {
    const e = need();
    const elements = [...document.querySelectorAll('[data-rapport-placement]:not([data-rapport-decision])')];
    const placements = elements.map((el) => el.getAttribute('data-rapport-placement'));
    const decisions = JSON.parse(call(e, 'render', Date.now(), randomSeed(), JSON.stringify(context()), ...placements));
    decisions.forEach((decision, i) => {
      const [item] = decision.items;
      if (item) {
        if (item.content.html != null) elements[i].innerHTML = item.content.html;
        elements[i].setAttribute('data-rapport-offer', item.offer);
      }
      elements[i].setAttribute('data-rapport-decision', decision.decision_id);
    });
    return rendered(decisions);
  };
  /** Re-decides every placement, the edge's too (after a signal that should change them). */
  api.refresh = () => {
    document.querySelectorAll('[data-rapport-placement][data-rapport-decision]').forEach((el) => {
      el.removeAttribute('data-rapport-decision');
      el.removeAttribute('data-rapport-offer');
    });
    return api.render();
  };
  /** Adds to the request context rules see (e.g. `{store: {checked_in: true}}`); merged shallowly. */
  api.setContext = (more) => {
    extra = { ...extra, ...more };
    return api.context();
  };
  /** The context local decisions use. */
  api.context = () => context();
  /** Records a custom signal. */
  api.track = (type, props = {}) => record(type, props);
  /** Links an identity (and traits) to this profile. */
  api.identify = (namespace, id, traits) => record('identify', traits ? { namespace, id, traits } : { namespace, id });
  /** Sets personalization consent; takes effect at once. */
  api.consent = ({ personalization }) => {
    record('consent', { personalization });
    if (personalization !== 'granted') queue = queue.filter((e) => e.type === 'consent');
    // Now, not at the end of the task: consent takes effect before this returns, storage too.
    persist();
    return call(need(), 'consent');
  };
  /** The profile view. */
  api.profile = () => JSON.parse(call(need(), 'view', Date.now()));
  /** Subscribes to `ready`, `decision` or `event`. */
  api.on = (name, fn) => {
    listeners.set(name, [...(listeners.get(name) ?? []), fn]);
    return () => listeners.set(name, (listeners.get(name) ?? []).filter((f) => f !== fn));
  };
  /** Sends queued events now. */
  api.flush = flush;
  Object.defineProperty(api, 'version', { get: () => (engine ? call(engine, 'version') : null) });
  Object.defineProperty(api, 'pending', { get: () => queue.length });
  api.ready = start();
  return api;
}
