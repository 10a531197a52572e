//! Wasm under Node: the shared vectors decide exactly as natively.

mod common;

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn decide_vectors_hold_in_wasm_under_node() {
    assert!(common::run_decide_vectors() > 0);
}

#[wasm_bindgen_test]
fn a_bad_bundle_throws_an_error_named_after_its_kind() {
    let error = |source: &str| {
        let error = rapport_web::Engine::new(source).err().unwrap();
        let error: js_sys::Error = wasm_bindgen::JsCast::dyn_into(error).unwrap();
        (String::from(error.name()), String::from(error.message()))
    };
    assert_eq!(error("{not json").0, "parse");
    // A catalog is not loaded unchecked: it goes through the edge (or `rapport compile`) first.
    let catalog = include_str!("../../examples/northwind.catalog.json");
    assert_eq!(
        error(catalog),
        (
            "invalid".to_owned(),
            "/rapport_bundle: not a compiled bundle of format 1: load what GET /v1/bundle or `rapport compile --browser` writes"
                .to_owned()
        )
    );
    // References are still resolved: an unknown audience is an error, never an open door.
    let bundle = r#"{"rapport_bundle":1,"version":"v","catalog":{"catalog":"c","placements":{"p":{}},
        "offers":[{"id":"o","placements":["p"],"audience":"nobody"}]}}"#;
    let expected = "/catalog/offers/0/audience: unknown audience nobody";
    assert_eq!(error(bundle), ("invalid".to_owned(), expected.to_owned()));
}

/// The bundle `core.js` warms the engine with while `/v1/bundle` downloads loads and decides: a
/// broken one would only lose the head start, silently.
#[wasm_bindgen_test]
fn the_warm_up_bundle_loads_and_decides() {
    let core = include_str!("../js/core.js");
    let start = core.find("const WARM = '").unwrap() + "const WARM = '".len();
    let warm = &core[start..start + core[start..].find("';").unwrap()];
    let mut engine = rapport_web::Engine::new(warm).unwrap();
    engine.load("browser:warm", "warm", "", "");
    let decision = engine.decide("p", r#"{"device":"desktop"}"#, 1_763_800_000_000.0, 1.0, None).unwrap();
    let decision: serde_json::Value = serde_json::from_str(&decision).unwrap();
    assert_eq!(decision["items"][0]["offer"], "f", "{decision}");
}

/// `core.js` reaches the engine through `Engine::call` only: each operation answers through it as
/// its method does, arguments split at NUL; an unknown one throws.
#[wasm_bindgen_test]
fn every_operation_answers_through_the_one_door() {
    let bundle = common::bundle(include_str!("../../examples/northwind.catalog.json"));
    let (mut direct, mut door) =
        (rapport_web::Engine::new(&bundle).unwrap(), rapport_web::Engine::new(&bundle).unwrap());
    let now = 1_763_800_000_000.0;
    direct.load("browser:d1", "d1", "", "");
    assert_eq!(door.call("load", "browser:d1\0d1\0\0", 0.0, 0.0).unwrap(), "");
    let event = r#"{"id":"e1","type":"product_view","ts":1763800000000,"props":{"category":"coats"}}"#;
    assert_eq!(door.call("track", event, 0.0, 0.0).unwrap(), direct.track(event).unwrap());
    let context = r#"{"page":{"path":"/coats/"}}"#;
    for trace in [false, true] {
        let args = ["hero", context, if trace { "trace" } else { "" }].join("\0");
        let through = door.call("decide", &args, now, 7.0).unwrap();
        assert_eq!(through, direct.decide("hero", context, now, 7.0, Some(trace)).unwrap());
        assert_eq!(through.contains("\"trace\""), trace, "{through}");
    }
    assert_eq!(door.call("view", "", now, 0.0).unwrap(), direct.view(now));
    assert_eq!(door.call("fragment", "", 0.0, 0.0).unwrap(), direct.fragment());
    assert_eq!(door.call("consent", "", 0.0, 0.0).unwrap(), "granted");
    assert_eq!(door.call("version", "", 0.0, 0.0).unwrap(), direct.version());
    let error = door.call("launch", "", 0.0, 0.0).err().unwrap();
    let error: js_sys::Error = wasm_bindgen::JsCast::dyn_into(error).unwrap();
    assert_eq!(String::from(error.name()), "invalid");
    let context = rapport_web::page_context_of(
        "https://shop.example/coats/?utm_source=mail\0/coats/\0\0Coats\0Mozilla/5.0 (iPhone)",
    );
    assert_eq!(
        context,
        rapport_web::page_context(
            "https://shop.example/coats/?utm_source=mail",
            "/coats/",
            "",
            "Coats",
            "Mozilla/5.0 (iPhone)"
        )
    );
    assert!(context.contains("mail"), "{context}");
}

/// The official JsonLogic suite (vendored in tests/data) through the Wasm build's `evalLine`
/// (an authoring tool: `script/test` runs this suite with `--features tools`).
#[cfg(feature = "tools")]
#[wasm_bindgen_test]
fn the_jsonlogic_suite_passes_in_wasm() {
    let suite: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/data/jsonlogic-tests.json")).unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in suite.as_array().unwrap().iter().filter_map(|c| c.as_array()) {
        let line = serde_json::json!({ "rule": case[0], "data": case[1] }).to_string();
        let out: serde_json::Value = serde_json::from_str(&rapport_web::tools::eval_line(&line)).unwrap();
        if out.get("result") != Some(&case[2]) {
            failures.push(format!("{line} → {out}, expected {}", case[2]));
        }
        ran += 1;
    }
    assert_eq!(ran, 277);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The SDK's own allocator (`src/alloc.rs`): blocks of every size, freed and grown in any order,
/// keep their contents; 16-byte alignment holds.
#[wasm_bindgen_test]
fn the_allocator_keeps_every_block_intact() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut live: Vec<(Vec<u8>, u8)> = Vec::new();
    for round in 0..20_000u32 {
        let r = next();
        match r % 5 {
            0 | 1 => {
                let len = (next() % if r % 97 == 0 { 300_000 } else { 600 }) as usize;
                let fill = (next() & 0xff) as u8;
                live.push((vec![fill; len], fill));
            }
            2 if !live.is_empty() => {
                let i = (next() as usize) % live.len();
                let (v, fill) = live.swap_remove(i);
                assert!(v.iter().all(|b| *b == fill), "round {round}");
            }
            3 if !live.is_empty() => {
                let i = (next() as usize) % live.len();
                let extra = (next() % 2000) as usize;
                let fill = live[i].1;
                live[i].0.extend(std::iter::repeat_n(fill, extra));
            }
            _ => {
                let mut s = String::new();
                for k in 0..(next() % 50) {
                    s.push_str(&k.to_string());
                }
                let aligned: Vec<u128> = vec![u128::from(round); (next() % 40) as usize];
                assert!((aligned.as_ptr() as usize).is_multiple_of(16) || aligned.is_empty());
                assert!(aligned.iter().all(|x| *x == u128::from(round)));
                drop(s);
            }
        }
    }
    for (v, fill) in &live {
        assert!(v.iter().all(|b| b == fill));
    }
}
