//! Visitor cookie decode: no header may panic, and none verifies without the secret's signature.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    if let Some(id) = rapport::visitor::from_cookie_header(header, "fuzz-secret") {
        // Only a cookie this secret signed can verify; libFuzzer cannot forge HMAC-SHA256.
        assert!(header.contains(&rapport::visitor::signature(&id, "fuzz-secret")));
    }
});
