//! The shared decision vectors (`tests/vectors/`), run natively. The same files run in Wasm
//! under Node and Chromium (`web-sdk/tests/`) and over HTTP against the worker
//! (`tests/edge.test.mjs`): that is how runtime parity is proven.
//!
//! `RAPPORT_BLESS=1 cargo test --test vectors` rewrites the expectations from this runtime;
//! review the diff before committing it.

use rapport::json::Value;
use rapport::{Bundle, Profile, Request};
use std::path::Path;

fn run_case(bundle: &Bundle, case: &Value) -> Value {
    let context = &case["context"];
    let request = Request {
        placement: case["placement"].as_str().unwrap(),
        context,
        now: case["now"].as_i64().unwrap(),
        seed: case["seed"].as_u64().unwrap(),
        trace: case.get("trace").and_then(Value::as_bool).unwrap_or(false),
    };
    Value::from(serde_json::to_value(rapport::decide(bundle, &mut Profile::default(), &request)).unwrap())
}

#[test]
fn decide_vectors_hold_natively() {
    check_file("decide.json");
}

#[test]
fn ranking_vectors_hold_natively() {
    check_file("ranking.json");
}

fn check_file(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let bundle = Bundle::from_value(file["catalog"].clone()).unwrap();
    // The browser's path: the bundle the edge serves (format 2), read back as the SDK reads it;
    // what it read writes the same compiled form again.
    let (_, served) = bundle.export_compiled().unwrap();
    let browser = Bundle::from_compiled(&served).unwrap();
    let again = rapport::json::written(|out| browser.write_compiled(out));
    assert!(served.contains(&again), "the compiled form reads back as it was written");
    let bless = std::env::var_os("RAPPORT_BLESS").is_some();
    let mut failures = Vec::new();
    for case in file.get_mut("cases").and_then(Value::as_array_mut).unwrap() {
        let got = run_case(&bundle, case);
        let in_browser = run_case(&browser, case);
        if got != in_browser {
            failures.push(format!("{}\n  checked {}\n  trusted {}", case["name"], got, in_browser));
        }
        if bless {
            case.as_object_mut().unwrap().insert("expect".to_owned(), got);
        } else if got != case["expect"] {
            failures.push(format!("{}\n  expected {}\n  got      {}", case["name"], case["expect"], got));
        }
    }
    if bless {
        std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap() + "\n").unwrap();
    }
    assert!(failures.is_empty(), "{} vector(s) failed:\n{}", failures.len(), failures.join("\n"));
}
