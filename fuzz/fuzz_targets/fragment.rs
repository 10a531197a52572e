//! Fragment decode, merge with itself and view: no input may panic; merge stays idempotent.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../shared/example.rs"]
mod example;
use example::bundle;

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
