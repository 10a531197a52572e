// The browser SDK's JS half: load the Wasm core once, find the bundle (the edge's embedded state
// or GET /v1/bundle), and render placements the edge did not fill. Deciding is the core's job.
import init, { Engine } from 'rapport-wasm';

/** The request context the core's rules see (contract §2). */
function pageContext() {
  return {
    page: {
      path: location.pathname,
      url: location.href,
      referrer: document.referrer,
      title: document.title,
    },
  };
}

/** The state the edge embedded in the page, if any. */
function edgeState() {
  const el = document.getElementById('rapport-state');
  if (!el) return null;
  try {
    return JSON.parse(el.textContent);
  } catch {
    return null;
  }
}

function domReady() {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
}

/**
 * Creates a Rapport instance.
 * @param {{ wasmUrl: string | URL, endpoint: string | URL }} options
 */
export function createRapport({ wasmUrl, endpoint }) {
  let engine = null;
  const api = {};

  const start = async () => {
    const [, bundle] = await Promise.all([
      init({ module_or_path: wasmUrl }),
      fetch(new URL('/v1/bundle', endpoint), { credentials: 'include' }).then((r) => {
        if (!r.ok) throw new Error(`rapport: GET /v1/bundle answered ${r.status}`);
        return r.text();
      }),
      domReady(),
    ]);
    engine = new Engine(bundle);
    api.state = edgeState();
    api.render();
    return api;
  };

  const needEngine = () => {
    if (!engine) throw new Error('rapport: not ready; await rapport.ready first');
    return engine;
  };

  /** Decides one placement locally, synchronously (after `ready`). */
  api.decide = (placement) => JSON.parse(needEngine().decide(placement, JSON.stringify(pageContext()), Date.now()));
  /** Fills every placement the edge did not fill; returns the decisions made. */
  api.render = () => JSON.parse(needEngine().render(JSON.stringify(pageContext()), Date.now()));
  /** The version of the bundle deciding in this page. */
  Object.defineProperty(api, 'version', { get: () => (engine ? engine.version : null) });
  api.ready = start();
  return api;
}
