//! The shared decision vectors, run through the SDK's one export, `Engine::call` (the code path
//! the browser uses). Included by the Node and the Chromium test binaries.

use rapport_web::Engine;
use serde_json::Value;

const FILES: [&str; 2] =
    [include_str!("../../../tests/vectors/decide.json"), include_str!("../../../tests/vectors/ranking.json")];

/// The browser bundle of a catalog, as the edge serves it (the engine loads only bundles).
pub fn bundle(catalog: &str) -> String {
    rapport::Bundle::from_json(catalog).unwrap().export_compiled().unwrap().1
}

/// Runs every case of every file in `tests/vectors/`; returns how many ran.
pub fn run_decide_vectors() -> usize {
    FILES.iter().map(|file| run_file(file)).sum()
}

fn run_file(text: &str) -> usize {
    let file: Value = serde_json::from_str(text).unwrap();
    let mut engine = Engine::open(&bundle(&file["catalog"].to_string())).unwrap();
    let cases = file["cases"].as_array().unwrap();
    for case in cases {
        let trace = if case.get("trace").and_then(Value::as_bool) == Some(true) { "trace" } else { "" };
        let args = [case["placement"].as_str().unwrap(), &case["context"].to_string(), trace].join("\0");
        let got = engine.call("decide", &args, case["now"].as_f64().unwrap(), case["seed"].as_f64().unwrap());
        let got: Value = serde_json::from_str(&got).unwrap();
        assert_eq!(got, case["expect"], "vector {}", case["name"]);
    }
    cases.len()
}
