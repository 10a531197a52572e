//! The example catalog's bundle, compiled once per fuzzing process (shared by the targets that
//! need a schema; each target includes this file with `#[path]`).

use std::sync::OnceLock;

pub fn bundle() -> &'static rapport::Bundle {
    static BUNDLE: OnceLock<rapport::Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        rapport::Bundle::from_json(include_str!("../../examples/northwind.catalog.json")).expect("the example catalog")
    })
}
