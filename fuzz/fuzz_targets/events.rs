//! An event batch validated and applied to a fragment: no input may panic, and the fragment
//! stays within its size bound.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../shared/example.rs"]
mod example;
use example::bundle;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = rapport::json::parse(text) else { return };
    let Ok((events, _rejected)) = rapport::profile::parse_batch(&value, true) else { return };
    let bundle = bundle();
    let mut fragment = rapport::Profile::new("edge", "visitor");
    for event in &events {
        fragment.apply(&bundle.schema, event);
    }
    let _ = bundle.view(&fragment, 1);
    assert!(fragment.to_json().len() <= 4 * rapport::profile::MAX_FRAGMENT_BYTES);
});
