//! Fragment decode, merge with itself and view: no input may panic; merge stays idempotent.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn bundle() -> &'static rapport::Bundle {
    static BUNDLE: OnceLock<rapport::Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        rapport::Bundle::from_json(include_str!("../../examples/northwind.catalog.json")).expect("the example catalog")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(fragment) = rapport::Profile::from_json(text) else { return };
    let mut merged = fragment.clone();
    merged.merge(&fragment);
    let mut again = merged.clone();
    again.merge(&merged);
    assert_eq!(again.to_json(), merged.to_json(), "merge is idempotent");
    let _ = bundle().view(&merged, 1);
});
