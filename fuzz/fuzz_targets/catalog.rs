//! Catalogs and bundles, read both ways (checked, and as the browser SDK reads format 2), then a
//! decision on every placement: no input may panic, and every catalog that compiles reads back
//! from the browser bundle it makes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(bundle) = rapport::Bundle::from_json(text) {
        decide_everything(&bundle);
        let _ = bundle.to_json(true);
        // Refused only when format 2 would not read back (a rule nested near JSON's depth limit).
        match bundle.export_compiled() {
            Ok((_, browser)) => {
                let read = rapport::Bundle::from_compiled(&browser).expect("the browser bundle reads back");
                decide_everything(&read);
            }
            Err(errors) => assert!(errors[0].message.contains("does not read back"), "{errors:?}"),
        }
    }
    if let Ok(bundle) = rapport::Bundle::from_compiled(text) {
        decide_everything(&bundle);
    }
});

fn decide_everything(bundle: &rapport::Bundle) {
    let context = rapport::json!({ "page": { "path": "/" } });
    let placements: Vec<String> = bundle.placement_ids().map(str::to_owned).collect();
    let mut profile = rapport::Profile::new("fuzz", "visitor");
    for placement in placements {
        let request = rapport::Request { placement: &placement, context: &context, now: 1, seed: 7, trace: true };
        let _ = rapport::decide(bundle, &mut profile, &request);
    }
}
