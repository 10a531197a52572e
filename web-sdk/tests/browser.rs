//! Wasm in headless Chromium: the shared vectors decide exactly as natively, and `render` fills
//! the placements the edge left empty, leaving edge-filled ones alone.

mod common;

use rapport_web::Engine;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn decide_vectors_hold_in_wasm_in_chromium() {
    assert!(common::run_decide_vectors() > 0);
}

#[wasm_bindgen_test]
fn render_fills_unfilled_placements_only() {
    let document = web_sys::window().unwrap().document().unwrap();
    let body = document.query_selector("body").unwrap().unwrap();
    // Append: the test runner reports through elements already in the body.
    body.insert_adjacent_html(
        "beforeend",
        r#"<div id="mine" data-rapport-placement="hero">placeholder</div>
           <div id="edge" data-rapport-placement="hero" data-rapport-decision="e1" data-rapport-offer="x">from the edge</div>"#,
    )
    .unwrap();
    let catalog: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/vectors/decide.json")).unwrap();
    let mut engine = Engine::new(&common::bundle(&catalog["catalog"].to_string())).unwrap();
    let decisions = engine.render(r#"{"page":{"path":"/coats/"}}"#, 1_763_800_000_000.0, 1.0).unwrap();
    let decisions: serde_json::Value = serde_json::from_str(&decisions).unwrap();
    assert_eq!(decisions.as_array().unwrap().len(), 1, "only the unfilled placement is decided");

    let mine = document.get_element_by_id("mine").unwrap();
    assert_eq!(mine.get_attribute("data-rapport-offer").as_deref(), Some("hero-coats"));
    assert!(mine.get_attribute("data-rapport-decision").is_some());
    let heading = mine.query_selector("h2").unwrap().unwrap();
    // The template fallback `Coat <weather>` arrives escaped: as text, not as markup.
    assert_eq!(heading.text_content().unwrap(), "Coat <weather>: 10% off coats");
    assert!(mine.query_selector("weather").unwrap().is_none());

    let edge = document.get_element_by_id("edge").unwrap();
    assert_eq!(edge.text_content().unwrap(), "from the edge");
    assert_eq!(edge.get_attribute("data-rapport-offer").as_deref(), Some("x"));
}

#[wasm_bindgen_test]
fn a_tracked_signal_changes_the_very_next_decision() {
    let mut engine =
        Engine::new(&common::bundle(include_str!("../../examples/northwind.catalog.json"))).unwrap();
    engine.load("browser:d1", "d1", "", "");
    let context = r#"{"page":{"path":"/coats/"}}"#;
    let now = 1_763_800_000_000.0;
    let hero = |engine: &mut Engine| -> String {
        let decision: serde_json::Value =
            serde_json::from_str(&engine.decide("hero", context, now + 10_000.0, 1.0, None).unwrap())
                .unwrap();
        decision["items"][0]["offer"].as_str().unwrap().to_owned()
    };
    assert_ne!(hero(&mut engine), "coats-15");
    for i in 0..3 {
        let event = format!(
            r#"{{"id":"v{i}","type":"product_view","ts":{},"props":{{"category":"coats"}}}}"#,
            now as i64 + i
        );
        let outcome: serde_json::Value = serde_json::from_str(&engine.track(&event).unwrap()).unwrap();
        assert_eq!(outcome["outcome"], "applied");
        assert_eq!(outcome["event"]["origin"], "browser:d1", "sent to the edge under this replica");
    }
    assert_eq!(hero(&mut engine), "coats-15");
    // A retried event changes nothing.
    let again = engine
        .track(r#"{"id":"v0","type":"product_view","ts":1763800000000,"props":{"category":"coats"}}"#)
        .unwrap();
    assert!(again.contains("duplicate"));
}

#[wasm_bindgen_test]
fn without_consent_only_the_consent_record_is_kept() {
    let mut engine =
        Engine::new(&common::bundle(include_str!("../../examples/northwind.catalog.json"))).unwrap();
    engine.load("browser:d1", "d1", "", "");
    engine.track(r#"{"id":"c","type":"consent","ts":1,"props":{"personalization":"denied"}}"#).unwrap();
    let dropped = engine.track(r#"{"id":"s","type":"set","ts":2,"props":{"first_name":"Ann"}}"#).unwrap();
    assert!(dropped.contains("dropped"));
    let stored: serde_json::Value = serde_json::from_str(&engine.fragment()).unwrap();
    let keys: Vec<&str> = stored.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["consent", "replica"]);
}
