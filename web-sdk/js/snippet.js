// The one-tag entry point: <script src="/sdk/rapport.js" async></script> sets up window.rapport.
// The Wasm file sits next to this script; the API is this script's origin unless
// data-rapport-endpoint says otherwise.
import { createRapport } from './core.js';

const script = document.currentScript;
const base = script && script.src ? script.src : location.href;
const endpoint = (script && script.dataset.rapportEndpoint) || new URL(base).origin;
window.rapport = createRapport({ wasmUrl: new URL('rapport_bg.wasm', base), endpoint });
window.rapport.ready.catch((e) => console.error(e));
