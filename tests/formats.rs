//! The JSON formats are byte-compatible across the hand-written (de)serialization: the fixtures in
//! `tests/data/formats/` were written by the serde-derived code this replaced, and every one of
//! them must come out again exactly (fragments a browser or the edge stored, bundles the edge
//! published, decisions and profile views as the CLI, the worker and the SDK print them).

use rapport::json::Value;
use rapport::{Bundle, Profile, Request};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const NOW: i64 = 1_764_600_000_000;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats").join(name);
    std::fs::read_to_string(path).unwrap().trim_end().to_owned()
}

#[test]
fn a_stored_fragment_round_trips_exactly() {
    let text = fixture("fragment.json");
    let fragment = Profile::from_json(&text).unwrap();
    assert_eq!(fragment.to_json(), text);
    assert_eq!(serde_json::to_string(&fragment).unwrap(), text);
    assert_eq!(
        Value::from(serde_json::to_value(&fragment).unwrap()),
        serde_json::from_str::<Value>(&text).unwrap()
    );
    let through_serde: Profile = serde_json::from_str(&text).unwrap();
    assert_eq!(through_serde, fragment);
}

#[test]
fn a_published_bundle_round_trips_exactly() {
    let catalog = Bundle::from_json(&fixture("catalog.json")).unwrap();
    let text = fixture("bundle.json");
    assert_eq!(catalog.to_json(false), text);
    assert_eq!(catalog.to_json(true), fixture("bundle.browser.json"));
    let bundle = Bundle::from_json(&text).unwrap();
    assert_eq!(bundle.to_json(false), text);
    let published: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(published["version"], bundle.version.as_str(), "the content hash is unchanged");
    let browser = Bundle::from_json(&fixture("bundle.browser.json")).unwrap();
    assert_eq!(browser.to_json(false), fixture("bundle.browser.json"));
    // The browser SDK's reading: the same bundle, its version taken as written.
    let trusted = Bundle::from_compiled(&fixture("bundle.browser.json")).unwrap();
    assert_eq!(trusted.to_json(false), fixture("bundle.browser.json"));
    assert_eq!(trusted.version, browser.version);
    // A catalog is refused: only a checked compilation makes a bundle worth trusting. So is a
    // bundle of another format, or one missing its version or catalog.
    let refused = |text: &str| Bundle::from_compiled(text).unwrap_err()[0].path.clone();
    assert_eq!(refused(&fixture("catalog.json")), "/rapport_bundle");
    let browser = fixture("bundle.browser.json");
    assert_eq!(
        refused(&browser.replace(r#""rapport_bundle":1"#, r#""rapport_bundle":2"#)),
        "/rapport_bundle"
    );
    assert_eq!(refused(r#"{"rapport_bundle":1,"catalog":{}}"#), "/version");
    assert_eq!(refused(r#"{"rapport_bundle":1,"version":"v"}"#), "/catalog");
    assert_eq!(refused(r#"{"rapport_bundle":1,"version":"v","catalog":[]}"#), "/catalog");
    // What the trusted reading still refuses: an audience that does not exist (read as absent,
    // the offer would show to everybody) and a rule that does not compile (it has no meaning).
    let errors = |text: &str| -> Vec<String> {
        Bundle::from_compiled(text).map_or_else(|e| e.into_iter().map(|e| e.path).collect(), |_| Vec::new())
    };
    let unknown = browser.replacen(r#""audience":"coat_intent""#, r#""audience":"nobody""#, 1);
    assert_eq!(errors(&unknown), ["/catalog/offers/0/audience"]);
    let broken = browser.replacen(r#"{">=":"#, r#"{"no such op":"#, 1);
    assert_eq!(errors(&broken), ["/catalog/audiences/coat_intent/no such op"]);
    // A fallback is shown to everybody: one with an audience is refused when trusted too.
    let with_audience = browser.replacen(r#""fallback":"sorry""#, r#""fallback":"coats-10""#, 1);
    assert_eq!(errors(&with_audience), ["/catalog/placements/hero/fallback"]);
    // A value a newer edge may know and this SDK does not would change what audiences see.
    let newer = browser.replacen(r#""agg":"distinct""#, r#""agg":"median""#, 1).replacen(
        r#""window":"7d""#,
        r#""window":"7w""#,
        1,
    );
    assert_eq!(
        errors(&newer),
        ["/catalog/computed/categories/agg", "/catalog/computed/first_category/window"]
    );
    let cap_on = browser.replacen(r#""on":"click""#, r#""on":"hover""#, 1);
    assert_eq!(errors(&cap_on), ["/catalog/offers/0/caps/1/on"]);
    // What it trusts: checks that only make errors, like a repeated id, are its edge's job.
    let repeated = browser.replacen(r#""id":"sorry""#, r#""id":"coats-10""#, 1);
    assert_eq!(errors(&repeated), Vec::<String>::new());
    assert!(Bundle::from_json(&repeated).is_err(), "the checked reading refuses it");
}

#[test]
fn decisions_and_views_are_written_as_before() {
    let bundle = Bundle::from_json(&fixture("catalog.json")).unwrap();
    let expected = fixture("decisions.jsonl");
    let mut lines = expected.lines();
    for placement in ["hero", "side", "band"] {
        let mut profile = Profile::from_json(&fixture("fragment.json")).unwrap();
        let context = Value::Object(Default::default());
        let request = Request { placement, context: &context, now: NOW, seed: 42, trace: true };
        let decision = rapport::decide(&bundle, &mut profile, &request);
        let line = lines.next().unwrap();
        assert_eq!(decision.to_json(), line);
        assert_eq!(serde_json::to_string(&decision).unwrap(), line);
    }
    let view = bundle.view(&Profile::from_json(&fixture("fragment.json")).unwrap(), NOW);
    assert_eq!(view.to_json(), fixture("view.json"));
    assert_eq!(serde_json::to_string(&view).unwrap(), fixture("view.json"));
}

#[test]
fn a_journey_prints_as_before() {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats/northwind.catalog.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["simulate", "--catalog"])
        .arg(catalog)
        .args(["--profile-id", "journey", "--trace"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(fixture("journey.jsonl").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim_end(), fixture("journey.out.jsonl"));
}
