//! Fragment decode (checked, and trusted as the browser SDK reads), merge with itself and view:
//! no input may panic; the two readings agree; merge stays idempotent.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../shared/example.rs"]
mod example;
use example::bundle;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The browser's reading (no shape check) takes anything, and agrees with the checked one
    // wherever that one accepts.
    let trusted = rapport::Profile::from_trusted_json(text);
    let Ok(fragment) = rapport::Profile::from_json(text) else { return };
    assert_eq!(trusted.as_ref(), Some(&fragment), "the trusted reading agrees with the checked one");
    let mut merged = fragment.clone();
    merged.merge(&fragment);
    let mut again = merged.clone();
    again.merge(&merged);
    assert_eq!(again.to_json(), merged.to_json(), "merge is idempotent");
    let _ = bundle().view(&merged, 1);
});
