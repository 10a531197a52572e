//! The published JSON Schema (`schema/catalog.schema.json`) is generated from the same shape
//! the core validates with; this test fails when they drift. Regenerate with
//! `target/release/rapport schema > schema/catalog.schema.json`.

#[test]
fn the_published_schema_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/catalog.schema.json");
    let published: rapport::json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(published, rapport::catalog::shape::json_schema(), "regenerate schema/catalog.schema.json");
}
