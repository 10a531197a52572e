//! The example journeys (`examples/journeys/*.jsonl`), one per story Rapport is built for, run
//! through the real `rapport simulate` binary against `examples/northwind.catalog.json`.
//!
//! A journey line is a `simulate` line plus an optional `"expect"`: a subset the output line for
//! it must contain (objects by subset, arrays element by element; `"offers": [...]` is shorthand for the ids of the decision's items, and
//! `"not_chosen": {offer: reason}` checks the trace's reason for an offer).

use rapport::json::{Map, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn contains(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or(&Value::Null);
                contains(av, ev, &format!("{at}/{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            a.iter().zip(e).enumerate().try_for_each(|(i, (av, ev))| contains(av, ev, &format!("{at}/{i}")))
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{at}: expected {expected}, got {actual}")),
    }
}

fn check(output: &Value, expect: &Map) -> Result<(), String> {
    let mut rest = expect.clone();
    if let Some(offers) = rest.remove("offers") {
        let got: Vec<Value> =
            output["items"].as_array().into_iter().flatten().map(|i| i["offer"].clone()).collect();
        contains(&Value::Array(got), &offers, "/offers")?;
    }
    if let Some(Value::Object(reasons)) = rest.remove("not_chosen") {
        for (offer, reason) in reasons {
            let entry =
                output["trace"].as_array().into_iter().flatten().find(|t| t["offer"] == offer.as_str());
            let got = entry.map(|t| t["reason"].clone()).unwrap_or(Value::Null);
            contains(&got, &reason, &format!("/trace/{offer}"))?;
        }
    }
    contains(output, &Value::Object(rest), "")
}

fn run_journey(path: &Path) -> Result<usize, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut input = String::new();
    let mut expects = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut step: Value = serde_json::from_str(line).map_err(|e| format!("{line}: {e}"))?;
        let expect = step.as_object_mut().and_then(|m| m.remove("expect"));
        if step.get("decide").is_some() || step.get("profile").is_some() {
            expects.push(expect);
        }
        input.push_str(&step.to_string());
        input.push('\n');
    }
    let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("visitor");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["simulate", "--catalog"])
        .arg(root.join("examples/northwind.catalog.json"))
        .args(["--profile-id", id, "--trace"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child.stdin.take().ok_or("no stdin")?.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("simulate failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let outputs: Vec<Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or(Value::Null)).collect();
    if outputs.len() != expects.len() {
        return Err(format!("{} output lines for {} decide/profile lines", outputs.len(), expects.len()));
    }
    let mut checked = 0;
    for (i, (output, expect)) in outputs.iter().zip(&expects).enumerate() {
        if let Some(Value::Object(expect)) = expect {
            check(output, expect).map_err(|e| format!("output line {}: {e}\n  output: {output}", i + 1))?;
            checked += 1;
        }
    }
    Ok(checked)
}

#[test]
fn every_story_journey_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/journeys");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 8, "one journey per story");
    let mut failures = Vec::new();
    for path in &paths {
        match run_journey(path) {
            Ok(0) => failures.push(format!("{}: checks nothing", path.display())),
            Ok(_) => {}
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
