//! Wasm under Node: the shared vectors decide exactly as natively.

mod common;

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn decide_vectors_hold_in_wasm_under_node() {
    assert!(common::run_decide_vectors() > 0);
}

#[wasm_bindgen_test]
fn a_bad_catalog_throws_an_error_named_after_its_kind() {
    let name = |source: &str| {
        let error = rapport_web::Engine::new(source).err().unwrap();
        let error: js_sys::Error = wasm_bindgen::JsCast::dyn_into(error).unwrap();
        String::from(error.name())
    };
    assert_eq!(name("{not json"), "parse");
    assert_eq!(name("{\"catalog\": 1}"), "invalid");
}
