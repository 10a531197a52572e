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
}

/// The browser's bundle, format 2: the browser catalog and what compiling it made. Its text is
/// stable (a browser may have cached an SDK that reads it), it reads back to the same bundle, and
/// reading refuses what it cannot read rather than read it as something wider.
#[test]
fn a_compiled_browser_bundle_round_trips_and_refuses_what_it_cannot_read() {
    let bundle = Bundle::from_json(&fixture("catalog.json")).unwrap();
    let (version, text) = bundle.export_compiled().unwrap();
    assert_eq!(text, fixture("bundle.compiled.json"));
    let browser = Bundle::from_json(&fixture("bundle.browser.json")).unwrap();
    assert_eq!(version, browser.version, "the version is the browser catalog's hash, as in format 1");
    let read = Bundle::from_compiled(&text).unwrap();
    assert_eq!(read.version, version);
    let compiled = rapport::json::written(|out| read.write_compiled(out));
    assert!(text.contains(&format!(r#""compiled":{compiled}"#)), "the same compiled form");
    let ids = |b: &Bundle| b.catalog.offers.iter().map(|o| o.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&read), ids(&browser), "the same offers");
    // A catalog is refused: only a checked compilation makes a bundle worth trusting. So is a
    // bundle of another format, or one missing its version, catalog or compiled form.
    let refused = |text: &str| Bundle::from_compiled(text).unwrap_err()[0].path.clone();
    assert_eq!(refused(&fixture("catalog.json")), "/rapport_bundle");
    assert_eq!(refused(&fixture("bundle.browser.json")), "/rapport_bundle");
    assert_eq!(refused(r#"{"rapport_bundle":2,"catalog":{}}"#), "/version");
    assert_eq!(refused(r#"{"rapport_bundle":2,"version":"v"}"#), "/catalog");
    assert_eq!(refused(r#"{"rapport_bundle":2,"version":"v","catalog":[]}"#), "/catalog");
    assert_eq!(refused(r#"{"rapport_bundle":2,"version":"v","catalog":{}}"#), "/compiled");
    // What reading refuses, each alone: a tree no evaluation could take, an index out of range, an
    // open door, a value a newer edge may know and this SDK does not.
    let reads = |edited: &str| Bundle::from_compiled(edited).is_ok();
    let edits = [
        (r#"[">","#, r#"["no such op","#),
        (r#"["*",["var","offer.priority"],2]"#, r#"["*"]"#),
        (r#""audience":1"#, r#""audience":2"#),
        (r#""offers":[0,1]"#, r#""offers":[0,3]"#),
        (r#""fallback":2"#, r#""fallback":0"#),
        (r#"null,"distinct""#, r#"null,"median""#),
        (r#",2592000000]"#, r#",-1]"#),
        (r#"["~cap~coats-10~click~1h","click""#, r#"["~cap~coats-10~click~1h","hover""#),
        (r#"["~cap~coats-10~click~1h",1,"#, r#"["~cap~coats-10~hover~1h",1,"#),
        (r#""consent_default":"granted""#, r#""consent_default":"maybe""#),
    ];
    for (from, to) in edits {
        assert!(text.contains(from), "{from} is in the fixture");
        assert!(!reads(&text.replacen(from, to, 1)), "{to} is refused");
    }
    // One edit each for the lists deciding indexes by position: a suppression dropped, a variant
    // without its slot, a variant shown in another placement.
    let more = [
        (r#""suppressions":[{"when":"#, r#""suppressions":[],"x":[{"when":"#),
        (r#""offers":[1,null]"#, r#""offers":[1]"#),
        (r#""placement":"hero","traffic""#, r#""placement":"side","traffic""#),
    ];
    for (from, to) in more {
        assert!(text.contains(from), "{from} is in the fixture");
        assert!(!reads(&text.replacen(from, to, 1)), "{to} is refused");
    }
    // What it trusts: checks that only make errors, like a repeated id, are its edge's job.
    let repeated = text.replacen(r#""id":"sorry""#, r#""id":"coats-10""#, 1);
    assert!(reads(&repeated));
}

/// A rule nested near JSON's depth limit compiles in a catalog but would not read in format 2,
/// where it sits deeper: the browser bundle is refused when it is made (the edge refuses to
/// publish it), never served to browsers that would refuse it.
#[test]
fn a_browser_bundle_that_would_not_read_back_is_refused_when_made() {
    let rule =
        |depth: usize| format!("{}{{\"var\":\"event.type\"}}{}", "{\"!\":".repeat(depth), "}".repeat(depth));
    let catalog = |depth: usize| {
        format!(
            r#"{{"catalog":"deep","computed":{{"n":{{"event":"e","where":{},"agg":"count"}}}}}}"#,
            rule(depth)
        )
    };
    let shallow = Bundle::from_json(&catalog(100)).unwrap();
    assert!(shallow.export_compiled().is_ok());
    let deep = Bundle::from_json(&catalog(122)).expect("the catalog compiles");
    let errors = deep.export_compiled().unwrap_err();
    assert!(errors[0].message.contains("does not read back"), "{:?}", errors[0]);
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
