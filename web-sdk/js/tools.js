// The authoring tools, for catalog editors and the playground: `import { loadCore } from
// '.../tools.mjs'`. A Wasm module of their own (dist/tools/), so that the SDK sites load does
// not carry validation messages for editors, journey replay or `rapport eval`.
import init, { simulate, validateCatalog } from 'rapport-tools-wasm';

/** Loads the tools' Wasm module (once) and returns the tools. */
export async function loadCore(wasmUrl) {
  await init({ module_or_path: wasmUrl });
  return {
    /** Every error of a catalog as `{type, path, message}`; `[]` when it is valid. */
    validateCatalog: (text) => JSON.parse(validateCatalog(text)),
    /** Replays journey lines; `{outputs, errors}` as `rapport simulate --trace` prints them. */
    simulate: (catalog, journey, profileId = 'visitor') => JSON.parse(simulate(catalog, journey, profileId)),
  };
}
