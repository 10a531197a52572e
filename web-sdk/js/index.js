// The ES module entry point for bundlers: `import { createRapport } from '.../rapport.mjs'`.
export { createRapport } from './core.js';
