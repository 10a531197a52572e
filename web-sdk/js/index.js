// The ES module entry point for bundlers: `import { createRapport } from '.../rapport.mjs'`.
// `loadCore` gives tools (the catalog playground) the core's validation and journey simulation.
import init, { simulate, validateCatalog } from 'rapport-wasm';

export { createRapport } from './core.js';

/** Loads the Wasm core (once) and returns its authoring tools. */
export async function loadCore(wasmUrl) {
  await init({ module_or_path: wasmUrl });
  return {
    /** Every error of a catalog as `{type, path, message}`; `[]` when it is valid. */
    validateCatalog: (text) => JSON.parse(validateCatalog(text)),
    /** Replays journey lines; `{outputs, errors}` as `rapport simulate --trace` prints them. */
    simulate: (catalog, journey, profileId = 'visitor') => JSON.parse(simulate(catalog, journey, profileId)),
  };
}
