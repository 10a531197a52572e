// The ES module entry point for bundlers: `import { createRapport } from '.../rapport.mjs'`.
// Catalog editors load the authoring tools from tools.mjs instead.
export { createRapport } from './core.js';
