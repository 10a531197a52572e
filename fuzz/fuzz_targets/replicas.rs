//! Two fragments of one visitor (one line each) merged both ways, then a batch of events (the
//! third line) applied: no input may panic or allocate by a distance a fragment names, and what a
//! replica writes it reads back the same. The edge stores what browsers send, so both fragments
//! are untrusted.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../shared/example.rs"]
mod example;
use example::bundle;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.splitn(3, '\n');
    let (Some(a), Some(b)) = (lines.next(), lines.next()) else { return };
    let (Ok(a), Ok(b)) = (rapport::Profile::from_json(a), rapport::Profile::from_json(b)) else { return };
    let events = lines
        .next()
        .and_then(|batch| rapport::json::parse(batch).ok())
        .and_then(|batch| rapport::profile::parse_batch(&batch, true).ok())
        .map_or_else(Vec::new, |(events, _)| events);
    let bundle = bundle();
    for (mut mine, theirs) in [(a.clone(), &b), (b.clone(), &a)] {
        mine.merge(theirs);
        for event in &events {
            mine.apply(&bundle.schema, event);
        }
        let written = mine.to_json();
        let again = rapport::Profile::from_json(&written).expect("a replica reads what it wrote");
        assert_eq!(again.to_json(), written, "what a replica writes, it reads back the same");
        let _ = bundle.view(&mine, 1_763_800_000_000);
    }
});
