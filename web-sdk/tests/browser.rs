//! Wasm in headless Chromium: the shared vectors decide exactly as natively, and what `render`
//! returns is safe to write into the page. (Which placements `core.js` fills, and that it leaves
//! the edge's alone, is tested in tests/sdk.test.mjs against the worker.)

mod common;

use rapport_web::Engine;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn decide_vectors_hold_in_wasm_in_chromium() {
    assert!(common::run_decide_vectors() > 0);
}

/// What `render` hands `core.js` to write into the page: the offer's HTML with every inserted
/// value escaped (the template fallback `Coat <weather>` is text, not markup, once in the DOM).
#[wasm_bindgen_test]
fn rendered_html_is_escaped_before_it_reaches_the_dom() {
    let catalog: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/vectors/decide.json")).unwrap();
    let mut engine = Engine::open(&common::bundle(&catalog["catalog"].to_string())).unwrap();
    let decisions =
        engine.run("render", "{\"page\":{\"path\":\"/coats/\"}}\0hero", 1_763_800_000_000.0, 1.0).unwrap();
    let decisions: serde_json::Value = serde_json::from_str(&decisions).unwrap();
    assert_eq!(decisions[0]["items"][0]["offer"], "hero-coats");
    let html = decisions[0]["items"][0]["content"]["html"].as_str().unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    let element = document.create_element("div").unwrap();
    element.set_inner_html(html);
    let heading = element.query_selector("h2").unwrap().unwrap();
    assert_eq!(heading.text_content().unwrap(), "Coat <weather>: 10% off coats");
    assert!(element.query_selector("weather").unwrap().is_none());
}

#[wasm_bindgen_test]
fn a_tracked_signal_changes_the_very_next_decision() {
    let mut engine =
        Engine::open(&common::bundle(include_str!("../../examples/northwind.catalog.json"))).unwrap();
    engine.run("load", "browser:d1\0d1\0\0", 0.0, 0.0).unwrap();
    let context = r#"{"page":{"path":"/coats/"}}"#;
    let now = 1_763_800_000_000.0;
    let hero = |engine: &mut Engine| -> String {
        let decision: serde_json::Value = serde_json::from_str(
            &engine.run("decide", &["hero", context, ""].join("\0"), now + 10_000.0, 1.0).unwrap(),
        )
        .unwrap();
        decision["items"][0]["offer"].as_str().unwrap().to_owned()
    };
    assert_ne!(hero(&mut engine), "coats-15");
    for i in 0..3 {
        let event = format!(
            r#"{{"id":"v{i}","type":"product_view","ts":{},"props":{{"category":"coats"}}}}"#,
            now as i64 + i
        );
        let outcome: serde_json::Value =
            serde_json::from_str(&engine.run("track", &event, 0.0, 0.0).unwrap()).unwrap();
        assert_eq!(outcome["outcome"], "applied");
        assert_eq!(outcome["event"]["origin"], "browser:d1", "sent to the edge under this replica");
    }
    assert_eq!(hero(&mut engine), "coats-15");
    // A retried event changes nothing.
    let again = engine
        .run(
            "track",
            r#"{"id":"v0","type":"product_view","ts":1763800000000,"props":{"category":"coats"}}"#,
            0.0,
            0.0,
        )
        .unwrap();
    assert!(again.contains("duplicate"));
}

#[wasm_bindgen_test]
fn without_consent_only_the_consent_record_is_kept() {
    let mut engine =
        Engine::open(&common::bundle(include_str!("../../examples/northwind.catalog.json"))).unwrap();
    engine.run("load", "browser:d1\0d1\0\0", 0.0, 0.0).unwrap();
    let track = |engine: &mut Engine, event: &str| engine.run("track", event, 0.0, 0.0).unwrap();
    track(&mut engine, r#"{"id":"c","type":"consent","ts":1,"props":{"personalization":"denied"}}"#);
    let dropped = track(&mut engine, r#"{"id":"s","type":"set","ts":2,"props":{"first_name":"Ann"}}"#);
    assert!(dropped.contains("dropped"));
    let stored: serde_json::Value =
        serde_json::from_str(&engine.run("fragment", "", 0.0, 0.0).unwrap()).unwrap();
    let keys: Vec<&str> = stored.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["consent", "replica"]);
}
