// Types for dist/tools.mjs: the core's authoring tools (their own Wasm module).

/** The core's authoring tools, for catalog editors and playgrounds. */
export interface Core {
  /** Every error of a catalog; empty when it is valid. */
  validateCatalog(text: string): { type: string; path: string; message: string }[];
  /** Replays a journey (JSON lines) as `rapport simulate --trace` does. */
  simulate(catalog: string, journey: string, profileId?: string): { outputs: unknown[]; errors: string[] };
}

/** Loads the Wasm core (once) and returns its authoring tools. */
export function loadCore(wasmUrl: string | URL): Promise<Core>;
