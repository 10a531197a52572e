//! Fragment decode (checked, and trusted as the browser SDK reads), merge with itself, events
//! and a view: no input may panic; what the trusted reading reads, the checked one reads back;
//! merge stays idempotent.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../shared/example.rs"]
mod example;
use example::bundle;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The browser's reading (no shape check) takes anything: what it reads, the checked reading
    // reads back from what it writes; and it merges, applies events and views without panic.
    if let Some(trusted) = rapport::Profile::from_trusted_json(text) {
        let written = trusted.to_json();
        let again = rapport::Profile::from_json(&written).expect("the checked reading takes what was written");
        assert_eq!(again.to_json(), written, "read back the same");
        exercise(&trusted);
    }
    let Ok(fragment) = rapport::Profile::from_json(text) else { return };
    exercise(&fragment);
});

/// Merge with itself (idempotent), an event of every kind the example catalog counts, a view.
fn exercise(fragment: &rapport::Profile) {
    let mut merged = fragment.clone();
    merged.merge(fragment);
    let mut again = merged.clone();
    again.merge(&merged);
    assert_eq!(again.to_json(), merged.to_json(), "merge is idempotent");
    let bundle = bundle();
    for (i, kind) in ["product_view", "purchase", "impression", "support_chat"].iter().enumerate() {
        let event = rapport::json!({ "id": format!("f{i}"), "type": kind, "ts": 1_763_800_000_000i64 + i as i64,
            "props": { "category": "coats", "total": 12.5, "offer": "coats-15", "placement": "hero", "decision_id": "d" } });
        if let Ok(event) = rapport::profile::Event::from_value(&event, true) {
            merged.apply(&bundle.schema, &event);
        }
    }
    let _ = bundle.view(&merged, 1);
}
