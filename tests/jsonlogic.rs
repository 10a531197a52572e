//! The official JsonLogic test suite (vendored from jsonlogic.com's `tests.json`), run through
//! `rapport::rules::eval_line`, the code path of `rapport eval`.

use rapport::json;
use rapport::json::Value;
use std::path::Path;

const VENDORED: &str = "tests/data/jsonlogic-tests.json";

fn manifest_path(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn official_suite_passes() {
    let text = std::fs::read_to_string(manifest_path(VENDORED)).expect("vendored suite is readable");
    let suite: Vec<Value> = serde_json::from_str(&text).expect("vendored suite is JSON");
    let mut section = String::new();
    let mut cases = 0;
    let mut failures = Vec::new();
    for entry in &suite {
        let case = match entry {
            Value::String(name) => {
                section = name.clone();
                continue;
            }
            Value::Array(case) => case,
            other => panic!("unexpected suite entry {other}"),
        };
        let [rule, data, expected] = case.as_slice() else { panic!("malformed case {entry}") };
        cases += 1;
        let line = json!({ "rule": rule, "data": data }).to_string();
        let out = rapport::rules::eval_line(&line);
        let got: Value = serde_json::from_str(&out).expect("eval_line answers JSON");
        // Exact JSON equality: an integral result must print as `2`, not `2.0`.
        if got.get("result") != Some(expected) {
            failures.push(format!("[{section}] {line}\n    expected {expected}\n    got      {out}"));
        }
    }
    assert_eq!(cases, 277, "the suite has 277 cases");
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// Bundle format 2 carries rules as the trees they compiled to: each case's tree, written and read
/// back, answers what the case expects.
#[test]
fn official_suite_passes_through_the_written_tree() {
    let text = std::fs::read_to_string(manifest_path(VENDORED)).expect("vendored suite is readable");
    let suite: Vec<Value> = serde_json::from_str(&text).expect("vendored suite is JSON");
    let names = rapport::rules::Names::default();
    let mut failures = Vec::new();
    let mut cases = 0;
    for case in suite.iter().filter_map(Value::as_array) {
        let [rule, data, expected] = case.as_slice() else { panic!("malformed case {case:?}") };
        let compiled = rapport::rules::Rule::compile(rule, &names).expect("the suite's rules compile");
        let tree = json::written(|out| compiled.write_json(out));
        let tree_value = json::parse(&tree).expect("a written tree is JSON");
        let Some(read) = rapport::rules::Rule::read(&tree_value, &names) else {
            failures.push(format!("{rule}: tree {tree} does not read back"));
            continue;
        };
        assert_eq!(json::written(|out| read.write_json(out)), tree, "a tree read back writes alike");
        let got = read.evaluate(&rapport::rules::Scope::new(data, 0, &[]));
        if &got != expected {
            failures.push(format!("{rule} (tree {tree}) on {data}: expected {expected}, got {got}"));
        }
        cases += 1;
    }
    assert_eq!(cases + failures.len(), 277);
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn vendored_suite_is_fresh() {
    let peer = manifest_path("../shared/peer-data/jsonlogic-tests.json");
    if !peer.exists() {
        return;
    }
    let vendored = std::fs::read(manifest_path(VENDORED)).expect("vendored suite is readable");
    let upstream = std::fs::read(&peer).expect("shared suite is readable");
    assert!(vendored == upstream, "{VENDORED} differs from {}: copy it again", peer.display());
}
