//! The profile guarantees of contract §4, checked with random events, random splits over
//! replicas and random merge orders: merge is commutative, associative and idempotent; merging
//! replicas that applied disjoint events equals one replica that applied them all, for every
//! observable value; retries change nothing; a fragment stays within 16 KiB.

use proptest::prelude::*;
use rapport::json;
use rapport::json::Value;
use rapport::profile::{Event, Fragment, MAX_FRAGMENT_BYTES};
use rapport::Bundle;

const ORIGINS: [&str; 3] = ["browser:d1", "edge", "crm"];
const DAY: i64 = 86_400_000;
const T0: i64 = 1_763_800_000_000;

fn catalog(policy: Value) -> Bundle {
    Bundle::from_value(json!({
        "catalog": "laws",
        "settings": {
            "consent": { "default": "granted" },
            "merge_policy": { "attributes": policy },
            "fatigue": [ { "tags": ["promo"], "max": 5, "window": "7d" } ]
        },
        "computed": {
            "coat_views_1h": { "event": "product_view", "where": { "==": [{ "var": "event.props.category" }, "coats"] }, "agg": "count", "window": "1h" },
            "views_7d": { "event": "product_view", "agg": "count", "window": "7d" },
            "spend_30d": { "event": "purchase", "agg": "sum", "field": "props.total", "window": "30d" },
            "spend_all": { "event": "purchase", "agg": "sum", "field": "props.total" },
            "smallest": { "event": "purchase", "agg": "min", "field": "props.total", "window": "1d" },
            "largest": { "event": "purchase", "agg": "max", "field": "props.total" },
            "first_category": { "event": "product_view", "agg": "first", "field": "props.category", "window": "7d" },
            "last_category": { "event": "product_view", "agg": "last", "field": "props.category" },
            "categories": { "event": "product_view", "agg": "distinct", "field": "props.category", "window": "30d" }
        },
        "audiences": { "coat_intent": { ">=": [{ "var": "computed.coat_views_1h" }, 3] } },
        "placements": { "hero": {} },
        "offers": [
            { "id": "coats-10", "placements": ["hero"], "tags": ["promo"], "caps": [{ "max": 3, "window": "1d" }, { "max": 1, "window": "1h", "on": "click" }] },
            { "id": "sorry", "placements": ["hero"] }
        ]
    }))
    .unwrap()
}

/// A random event: a type from the catalog's world, a time within ten days, an origin.
fn event() -> impl Strategy<Value = (u8, i64, usize, u8, u32)> {
    (0u8..8, 0i64..10 * DAY, 0usize..ORIGINS.len(), 0u8..6, 0u32..100_000)
}

fn make(i: usize, (kind, dt, origin, pick, amount): (u8, i64, usize, u8, u32)) -> Event {
    let categories = ["coats", "shoes", "tents", "bags", "hats", "socks"];
    let (kind, props) = match kind {
        0 | 1 => ("product_view", json!({ "category": categories[pick as usize] })),
        2 => ("purchase", json!({ "total": f64::from(amount) / 100.0 })),
        3 => {
            let name = ["first_name", "tier", "team"][pick as usize % 3];
            ("set", Value::Object([(name.to_owned(), json!(format!("v{amount}")))].into_iter().collect()))
        }
        4 => {
            // One crm id per person: a second one would start a fresh profile (tested apart).
            let (namespace, id) =
                if pick % 2 == 1 { ("crm", "c-1".to_owned()) } else { ("email", format!("e{}", amount % 3)) };
            ("identify", json!({ "namespace": namespace, "id": id }))
        }
        5 => {
            let offer = ["coats-10", "sorry"][pick as usize % 2];
            ("impression", json!({ "offer": offer, "placement": "hero", "decision_id": "d" }))
        }
        6 => ("click", json!({ "offer": "coats-10", "placement": "hero", "decision_id": "d" })),
        _ => ("support_chat", json!({})),
    };
    let value = json!({ "id": format!("e{i}"), "type": kind, "ts": T0 + dt, "props": props, "origin": ORIGINS[origin] });
    Event::from_value(&value, true).unwrap()
}

fn apply_all(bundle: &Bundle, replica: &str, events: &[&Event]) -> Fragment {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| (e.ts, e.id.clone()));
    let mut f = Fragment::new(replica, "visitor");
    for e in sorted {
        f.apply(&bundle.schema, e);
    }
    f
}

/// Everything observable: the view at several times, and the hidden cap and fatigue counters.
fn observe(bundle: &Bundle, f: &Fragment, at: i64) -> Value {
    let mut seen = Vec::new();
    for now in [at, at + 3_600_000, at + DAY, at + 8 * DAY] {
        let hidden: Vec<Value> =
            bundle.schema.computed.iter().map(|d| f.computed_value(&bundle.schema, &d.name, now)).collect();
        seen.push(json!({ "view": bundle.view(f, now), "hidden": hidden }));
    }
    Value::Array(seen)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Each replica records its own events (their origin); the edge also applies some of the
    /// browser's events, sent to it by the SDK. Merged in any order, the fragments show exactly
    /// what one replica that applied every event shows.
    #[test]
    fn merging_replicas_equals_one_replica_that_saw_everything(
        raw in prop::collection::vec(event(), 1..120),
        echo in prop::collection::vec(any::<bool>(), 120),
        order in 0usize..6,
        latest in any::<bool>(),
    ) {
        let policy = if latest { json!("latest") } else { json!({ "precedence": ["crm", "edge", "browser"] }) };
        let bundle = catalog(policy);
        let events: Vec<Event> = raw.into_iter().enumerate().map(|(i, r)| make(i, r)).collect();
        let at = T0 + 10 * DAY;
        let one = apply_all(&bundle, "solo", &events.iter().collect::<Vec<_>>());

        let parts: Vec<Fragment> = ORIGINS
            .iter()
            .map(|&replica| {
                let mine: Vec<&Event> = events
                    .iter()
                    .enumerate()
                    .filter(|(i, e)| {
                        let origin = e.origin.as_deref();
                        origin == Some(replica) || (replica == "edge" && origin == Some("browser:d1") && echo[*i])
                    })
                    .map(|(_, e)| e)
                    .collect();
                apply_all(&bundle, replica, &mine)
            })
            .collect();
        let permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let [x, y, z] = permutations[order];
        let mut merged = parts[x].clone();
        merged.merge(&parts[y]);
        merged.merge(&parts[z]);
        prop_assert_eq!(observe(&bundle, &merged, at), observe(&bundle, &one, at));
    }

    #[test]
    fn merge_is_commutative_associative_and_idempotent(
        raw in prop::collection::vec(event(), 1..90),
        split in prop::collection::vec(0usize..3, 90),
    ) {
        let bundle = catalog(json!("latest"));
        let events: Vec<Event> = raw.into_iter().enumerate().map(|(i, r)| make(i, r)).collect();
        let part = |r: usize| {
            let mine: Vec<&Event> = events.iter().enumerate().filter(|(i, _)| split[*i] == r).map(|(_, e)| e).collect();
            apply_all(&bundle, "edge", &mine)
        };
        let (a, b, c) = (part(0), part(1), part(2));
        let join = |x: &Fragment, y: &Fragment| { let mut z = x.clone(); z.merge(y); z };
        prop_assert_eq!(join(&a, &b), join(&b, &a));
        prop_assert_eq!(join(&join(&a, &b), &c), join(&a, &join(&b, &c)));
        prop_assert_eq!(join(&a, &a), a.clone());
        let ab = join(&a, &b);
        prop_assert_eq!(join(&ab, &b), ab.clone());
        // What a replica writes, both readings read back as it was (the browser's has no shape check).
        for f in [&a, &ab] {
            prop_assert_eq!(&Fragment::from_json(&f.to_json()).unwrap(), f);
            prop_assert_eq!(Fragment::from_trusted_json(&f.to_json()), Some(f.clone()));
        }
    }

    #[test]
    fn retries_change_nothing(raw in prop::collection::vec(event(), 1..60), again in prop::collection::vec(0usize..60, 1..20)) {
        let bundle = catalog(json!("latest"));
        let events: Vec<Event> = raw.into_iter().enumerate().map(|(i, r)| make(i, r)).collect();
        let once = apply_all(&bundle, "edge", &events.iter().collect::<Vec<_>>());
        let mut twice = once.clone();
        for i in again {
            let e = &events[i % events.len()];
            twice.apply(&bundle.schema, e);
        }
        prop_assert_eq!(twice, once);
    }

    /// The edge's per-visitor store keeps every id it applied and applies new events with
    /// `apply_new`: then the order in which batches arrive does not matter, even when an event
    /// arrives behind more than 32 newer ones (which `apply` would refuse). Except `visits`:
    /// folding events into visits as they come is approximate when they come out of order.
    #[test]
    fn events_a_store_vouches_for_count_in_any_order(
        raw in prop::collection::vec(event(), 40..90),
        order in Just(()).prop_perturb(|_, mut rng| (0..90).map(|_| rng.next_u32()).collect::<Vec<u32>>()),
    ) {
        let bundle = catalog(json!("latest"));
        let events: Vec<Event> = raw.into_iter().enumerate().map(|(i, r)| make(i, r)).collect();
        let in_order = apply_all(&bundle, "edge", &events.iter().collect::<Vec<_>>());
        let mut shuffled: Vec<&Event> = events.iter().collect();
        shuffled.sort_by_key(|e| order[e.id[1..].parse::<usize>().unwrap_or(0) % order.len()]);
        let mut late = Fragment::new("edge", "visitor");
        for e in shuffled {
            late.apply_new(&bundle.schema, e);
        }
        let without_visits = |f: &Fragment| {
            let mut seen = observe(&bundle, f, T0 + 10 * DAY);
            for o in seen.as_array_mut().into_iter().flatten() {
                if let Some(Value::Object(view)) = o.get_mut("view") {
                    view.insert("visits".to_owned(), Value::Null);
                }
            }
            seen
        };
        prop_assert_eq!(without_visits(&late), without_visits(&in_order));
    }
}

#[test]
fn a_fragment_stays_within_16_kib_after_100_000_events() {
    let bundle = catalog(json!("latest"));
    let mut f = Fragment::new("edge", "visitor");
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut largest = 0;
    for i in 0..100_000usize {
        let r = next();
        let raw = (
            (r % 8) as u8,
            (i as i64) * 37_000,
            (r >> 8) as usize % 3,
            (r >> 16) as u8 % 6,
            (r >> 24) as u32 % 100_000,
        );
        f.apply(&bundle.schema, &make(i, raw));
        if i % 1000 == 0 {
            largest = largest.max(f.to_json().len());
        }
    }
    largest = largest.max(f.to_json().len());
    if largest > MAX_FRAGMENT_BYTES {
        let parts = Value::from(serde_json::to_value(&f).unwrap());
        for (k, v) in parts.as_object().unwrap() {
            eprintln!("{k}: {}", v.to_string().len());
            if let Value::Object(m) = v {
                for (k2, v2) in m {
                    eprintln!("  {k2}: {}", v2.to_string().len());
                }
            }
        }
    }
    eprintln!("largest fragment over 100,000 events: {largest} bytes");
    assert!(largest <= MAX_FRAGMENT_BYTES, "fragment grew to {largest} bytes");
}

#[test]
fn consent_newest_wins_and_denied_wins_ties() {
    let bundle = catalog(json!("latest"));
    let consent = |id: &str, ts: i64, status: &str| {
        Event::from_value(
            &json!({ "id": id, "type": "consent", "ts": ts, "props": { "personalization": status } }),
            true,
        )
        .unwrap()
    };
    let mut a = Fragment::new("edge", "v");
    a.apply(&bundle.schema, &consent("c1", 10, "granted"));
    let mut b = Fragment::new("browser:d1", "v");
    b.apply(&bundle.schema, &consent("c2", 10, "denied"));
    let mut ab = a.clone();
    ab.merge(&b);
    let mut ba = b.clone();
    ba.merge(&a);
    assert_eq!(bundle.view(&ab, 20).consent.get("personalization"), Some(&json!("denied")));
    assert_eq!(bundle.view(&ba, 20).consent.get("personalization"), Some(&json!("denied")));
    let mut c = Fragment::new("crm", "v");
    c.apply(&bundle.schema, &consent("c3", 11, "granted"));
    ab.merge(&c);
    assert_eq!(bundle.view(&ab, 20).consent.get("personalization"), Some(&json!("granted")));
}

/// What a browser may POST as its fragment: the right shape, hostile values. The edge stores it,
/// so every later event, merge and view of that visitor goes through it; none may trap (these
/// tests build with overflow checks), and none may allocate by a distance the fragment names.
#[test]
fn a_made_up_fragment_cannot_trap_the_replica_that_reads_it() {
    let bundle = catalog(json!("latest"));
    let (max, min, big) = (i64::MAX, i64::MIN, u64::MAX);
    let counter = |w: i64, sum: bool| {
        json!({ "counter": { "w": w, "sum": sum, "o": {
            "edge": [max, [big, big]],
            "browser:d1": [0, [1], [max, max, max]],
            "crm": [min, [big], [min]],
        } } })
    };
    let hostile = json!({
        "replica": "browser:d1",
        "ids": [[min, "anonymous", "visitor"], [max, "crm", "c-1"]],
        "consent": [min, "granted"],
        "region": [max, "FR"],
        "attrs": { "tier": [["crm", max, "e", "gold"], ["edge", min, "f", 1]] },
        "computed": {
            "coat_views_1h": counter(60_000, false),
            "views_7d": counter(min, true),
            "spend_30d": counter(max, true),
            "spend_all": counter(0, true),
            "smallest": { "extreme": { "w": max, "max": false, "b": [[max, 1.0e308], [min, -1.0e308], [5, 1]] } },
            "largest": { "extreme": { "w": 0, "max": true, "b": [[max, 1], [min, 2]] } },
            "first_category": { "first": { "w": min, "b": [[max, [min, "x"]], [0, [max, null]]] } },
            "last_category": { "last": { "v": [max, { "deep": [1, 2] }] } },
            "categories": { "distinct": { "v": [["coats", max], ["coats", min], [null, 0]] } }
        },
        "visits": { "edge": [big, big, [[max, min], [min, max], [0, max]]] },
        "seen": [max, min],
        "experiments": { "x": [min, "b"] },
        "recent": [[max, "ffffffffffff"], [min, "0"]]
    });
    let read = Fragment::from_value(&hostile).unwrap();
    let mut honest = Fragment::new("edge", "visitor");
    for i in 0..40 {
        let raw = ((i % 8) as u8, i64::from(i) * 3_600_000, (i % 3) as usize, (i % 6) as u8, 1234);
        honest.apply(&bundle.schema, &make(i as usize, raw));
    }
    for (mut mine, theirs) in [(read.clone(), honest.clone()), (honest, read)] {
        mine.merge(&theirs);
        for i in 0..16 {
            let raw = ((i % 8) as u8, i64::from(i) * 9 * DAY, (i % 3) as usize, (i % 6) as u8, 99);
            mine.apply(&bundle.schema, &make(100 + i as usize, raw));
        }
        let again = Fragment::from_json(&mine.to_json()).unwrap();
        assert_eq!(again.to_json(), mine.to_json(), "what a replica writes, it reads back the same");
        for at in [0, T0, T0 + 100 * DAY, 9_000_000_000_000] {
            let _ = bundle.view(&mine, at);
        }
        assert!(mine.to_json().len() <= MAX_FRAGMENT_BYTES, "{}", mine.to_json().len());
    }
}

/// The browser reads the fragments it stored and its edge embedded without the shape check. An
/// item not as Rapport writes it is left out, never read as zeros: a zero time would win every
/// merge that keeps the earliest.
#[test]
fn the_trusted_reading_leaves_out_what_is_not_as_written() {
    let mangled = json!({
        "replica": "browser:d1",
        "ids": [[5, "anonymous", "visitor"], ["x", "crm", "c-1"], [1, "email"]],
        "consent": [7, "maybe"],
        "region": ["FR", 1],
        "attrs": { "tier": [["crm", 3, "e1", "gold"], ["edge", "late", "e2", "bronze"]] },
        "computed": {
            "smallest": { "extreme": { "w": 1440000, "max": false, "b": [[1, 5.5], [2, "low"]] } },
            "first_category": { "first": { "w": 10080000, "b": [[3, [9, "coats"]], [1, "shoes"]] } },
            "last_category": { "last": { "v": "coats" } },
            "categories": { "distinct": { "v": [["coats", 4], ["shoes"]] } }
        },
        "visits": { "edge": [3, 0, [[10, 20], [30]]] },
        "seen": [1],
        "experiments": { "e1": ["a", 2], "e2": [4, "b"] },
        "recent": [[1, "abc"], "def"],
        "a field from a newer edge": true
    });
    assert!(Fragment::from_value(&mangled).is_err(), "the checked reading refuses it");
    let f = Fragment::from_trusted_json(&mangled.to_string()).unwrap();
    let expected = json!({
        "replica": "browser:d1",
        "ids": [[5, "anonymous", "visitor"]],
        "attrs": { "tier": [["crm", 3, "e1", "gold"]] },
        "computed": {
            "categories": { "distinct": { "v": [["coats", 4]] } },
            "first_category": { "first": { "w": 10080000, "b": [[3, [9, "coats"]]] } },
            "last_category": { "last": { "v": null } },
            "smallest": { "extreme": { "w": 1440000, "max": false, "b": [[1, 5.5]] } }
        },
        "visits": { "edge": [3, 0, [[10, 20]]] },
        "experiments": { "e2": [4, "b"] },
        "recent": [[1, "abc"]]
    });
    assert_eq!(serde_json::from_str::<Value>(&f.to_json()).unwrap(), expected);
    for text in ["", "null", "[]", "\"fragment\"", "{"] {
        assert_eq!(Fragment::from_trusted_json(text), None, "{text}");
    }
}
