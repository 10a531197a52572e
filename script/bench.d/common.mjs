// What the decision benchmarks share: the Wasm module's calling convention (benches/wasm) and
// the decision every engine makes (every rule evaluated, the best score wins, first on ties).
import { readFileSync } from 'node:fs';

/** Instantiates benches/wasm; `put(text)` writes its input buffer. */
export async function loadRapport(wasmPath) {
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
  const wasm = instance.exports;
  const encoder = new TextEncoder();
  const put = (text) => {
    const bytes = encoder.encode(text);
    const at = wasm.input(bytes.length);
    new Uint8Array(wasm.memory.buffer, at, bytes.length).set(bytes);
  };
  return { wasm, put };
}

/** A JS engine's decision for profile `p`: `test(offerIndex, profile)` per offer. */
export function bestOf(offers, profiles, test) {
  return (p) => {
    let best = -1;
    for (let o = 0; o < offers.length; o++) {
      if (test(o, profiles[p]) && (best < 0 || offers[o].score > offers[best].score)) best = o;
    }
    return best;
  };
}
