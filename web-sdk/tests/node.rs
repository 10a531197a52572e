//! Wasm under Node: the shared vectors decide exactly as natively.

mod common;

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn decide_vectors_hold_in_wasm_under_node() {
    assert!(common::run_decide_vectors() > 0);
}

#[wasm_bindgen_test]
fn a_bad_bundle_fails_with_its_kind_and_every_later_operation_says_so() {
    let error = |source: &str| {
        let failure = rapport_web::Engine::open(source).err().unwrap();
        (failure.kind, failure.message)
    };
    assert_eq!(error("{not json").0, "parse");
    // A catalog is not loaded unchecked: it goes through the edge (or `rapport compile`) first.
    let catalog = include_str!("../../examples/northwind.catalog.json");
    assert_eq!(
        error(catalog),
        (
            "invalid",
            "/rapport_bundle: not a compiled bundle of format 2: load what GET /v1/bundle?format=2 or `rapport compile --browser` writes"
                .to_owned()
        )
    );
    // What reading checks is still checked: an audience index out of range is an error, never an
    // open door.
    let bundle = common::bundle(include_str!("../../examples/northwind.catalog.json"));
    assert!(bundle.contains(r#"{"audience":5,"#));
    let bundle = bundle.replacen(r#"{"audience":5,"#, r#"{"audience":99,"#, 1);
    let expected = "/compiled: does not read as the compiled form of its catalog";
    assert_eq!(error(&bundle), ("invalid", expected.to_owned()));
    // What JS gets: the failure encoded, for core.js to throw; no bundle, no decision.
    let mut engine = rapport_web::Engine::new();
    assert_eq!(engine.call("bundle", &bundle, 0.0, 0.0), ["\0invalid\0", expected].concat());
    assert!(engine.call("decide", "p\0{}\0", 1.0, 1.0).starts_with("\0not_found\0"));
}

/// The bundle `core.js` warms the engine with while `/v1/bundle` downloads loads and decides: a
/// broken one would only lose the head start, silently.
#[wasm_bindgen_test]
fn the_warm_up_bundle_loads_and_decides() {
    let core = include_str!("../js/core.js");
    let start = core.find("const WARM = '").unwrap() + "const WARM = '".len();
    let warm = &core[start..start + core[start..].find("';").unwrap()];
    let mut engine = rapport_web::Engine::open(warm).unwrap();
    engine.run("load", "browser:warm\0warm\0\0", 0.0, 0.0).unwrap();
    let decision = engine.run("decide", "p\0{\"device\":\"desktop\"}\0", 1_763_800_000_000.0, 1.0).unwrap();
    let decision: serde_json::Value = serde_json::from_str(&decision).unwrap();
    assert_eq!(decision["items"][0]["offer"], "f", "{decision}");
}

/// `core.js` reaches the engine through `Engine::call` only: every operation, its arguments split
/// at NUL; a failure is encoded; an unknown operation fails.
#[wasm_bindgen_test]
fn every_operation_answers_through_the_one_door() {
    let bundle = common::bundle(include_str!("../../examples/northwind.catalog.json"));
    let mut engine = rapport_web::Engine::open(&bundle).unwrap();
    let now = 1_763_800_000_000.0;
    assert_eq!(engine.call("load", "browser:d1\0d1\0\0", 0.0, 0.0), "");
    let event = r#"{"id":"e1","type":"product_view","ts":1763800000000,"props":{"category":"coats"}}"#;
    let tracked: serde_json::Value = serde_json::from_str(&engine.call("track", event, 0.0, 0.0)).unwrap();
    assert_eq!(
        (tracked["outcome"].as_str(), tracked["event"]["origin"].as_str()),
        (Some("applied"), Some("browser:d1"))
    );
    let bad = engine.call("track", r#"{"id":"e2","type":"x"}"#, 0.0, 0.0);
    assert_eq!(bad, "\0invalid\0/ts: ts is required");
    let context = r#"{"page":{"path":"/coats/"}}"#;
    for trace in ["", "trace"] {
        let decision = engine.call("decide", &["hero", context, trace].join("\0"), now, 7.0);
        let decision: serde_json::Value = serde_json::from_str(&decision).unwrap();
        assert_eq!(decision["placement"], "hero");
        assert_eq!(decision.get("trace").is_some(), trace == "trace", "{decision}");
    }
    // `render`: one decision per placement given, in order, element i seeded seed + i.
    let rendered = engine.call("render", &[context, "hero", "side", "hero"].join("\0"), now, 7.0);
    let rendered: serde_json::Value = serde_json::from_str(&rendered).unwrap();
    let placements: Vec<&str> =
        rendered.as_array().unwrap().iter().map(|d| d["placement"].as_str().unwrap()).collect();
    assert_eq!(placements, ["hero", "side", "hero"]);
    let alone = engine.call("decide", &["hero", context, ""].join("\0"), now, 9.0);
    let alone: serde_json::Value = serde_json::from_str(&alone).unwrap();
    assert_eq!(rendered[2]["decision_id"], alone["decision_id"]);
    assert_eq!(engine.call("render", context, now, 7.0), "[]");
    let view: serde_json::Value = serde_json::from_str(&engine.call("view", "", now, 0.0)).unwrap();
    assert_eq!(view["computed"]["coat_views_1h"], 1);
    assert!(engine.call("fragment", "", 0.0, 0.0).contains("browser:d1"));
    assert_eq!(engine.call("consent", "", 0.0, 0.0), "granted");
    assert_eq!(engine.call("version", "", 0.0, 0.0).len(), 16);
    assert_eq!(engine.call("launch", "", 0.0, 0.0), "\0invalid\0unknown operation launch");
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

/// Without consent the SDK stores the consent record alone: loaded again, that fragment gets the
/// edge's identity, so experiments allocate as at the edge and the edge's fragment merges in.
#[wasm_bindgen_test]
fn a_stored_consent_record_still_joins_the_edges_profile() {
    let bundle = common::bundle(include_str!("../../examples/northwind.catalog.json"));
    let mut engine = rapport_web::Engine::open(&bundle).unwrap();
    let stored = r#"{"replica":"browser:d1","consent":[5,"granted"]}"#;
    let edge = r#"{"replica":"edge","ids":[[0,"anonymous","edge-visitor"]],"consent":[5,"granted"],
        "computed":{"coat_views_1h":{"counter":{"w":60000,"sum":false,"o":{"edge":[29396666,[2]]}}}}}"#;
    engine.run("load", &["browser:d1", "d1", stored, edge].join("\0"), 0.0, 0.0).unwrap();
    let fragment = engine.run("fragment", "", 0.0, 0.0).unwrap();
    assert!(fragment.contains(r#""ids":[[0,"anonymous","edge-visitor"]]"#), "{fragment}");
    let view: serde_json::Value =
        serde_json::from_str(&engine.run("view", "", 1_763_800_000_000.0, 0.0).unwrap()).unwrap();
    assert_eq!(view["computed"]["coat_views_1h"], 2, "{view}");
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
