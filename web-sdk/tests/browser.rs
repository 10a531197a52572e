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
    let engine = Engine::new(&catalog["catalog"].to_string()).unwrap();
    let decisions = engine.render(r#"{"page":{"path":"/coats/"}}"#, 1_763_800_000_000.0).unwrap();
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
