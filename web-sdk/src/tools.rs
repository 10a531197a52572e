//! The core's authoring tools, for catalog editors and the playground: validation, journey
//! simulation and `rapport eval`. Built only with the `tools` feature, into a Wasm module of
//! their own (`dist/tools/`), so that the SDK a site loads does not carry them.

use rapport::json;
use rapport::Bundle;
use wasm_bindgen::prelude::*;

/// Every error of a catalog (JSON text) as a JSON array of `{type, path, message}`; `[]` when
/// it is valid. For editors and the playground: the same check the edge runs on publish.
#[wasm_bindgen(js_name = validateCatalog)]
pub fn validate_catalog(catalog: &str) -> String {
    let errors = Bundle::from_json(catalog).err().unwrap_or_default();
    let mut out = String::from("[");
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&e.to_json());
    }
    out.push(']');
    out
}

/// Replays a journey (JSON lines) against a catalog, as `rapport simulate --trace` does:
/// `{"outputs": [decision or view, ...], "errors": ["line n: ...", ...]}`.
#[wasm_bindgen]
pub fn simulate(catalog: &str, journey: &str, profile_id: &str) -> String {
    let (outputs, errors) = match Bundle::from_json(catalog) {
        Ok(bundle) => {
            let replay = rapport::simulate::replay(&bundle, profile_id, journey, true);
            (replay.outputs, replay.errors)
        }
        Err(errors) => (Vec::new(), errors.iter().map(ToString::to_string).collect()),
    };
    let mut out = String::from("{\"outputs\":[");
    out.push_str(&outputs.join(","));
    out.push_str("],\"errors\":[");
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::string(&mut out, e);
    }
    out.push_str("]}");
    out
}

/// One `rapport eval` line, evaluated by the Wasm build of the rules engine.
#[wasm_bindgen(js_name = evalLine)]
pub fn eval_line(line: &str) -> String {
    rapport::rules::eval_line(line)
}
