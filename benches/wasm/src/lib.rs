//! The decision benchmark's Wasm module, with plain exports and no bindings generator, so that
//! Node measures the core and nothing else (`script/bench.d/decision.mjs`):
//!
//! 1. `input(len)` gives the address of a `len`-byte buffer; Node writes JSON there.
//! 2. `load_offers()` compiles the buffer's offers (`[{"jsonlogic": rule, "score": n}, …]`)
//!    together, as a bundle compiles its rules.
//! 3. `add_profile()` parses the buffer's profile and keeps it (as the SDK keeps its profile
//!    in Wasm memory), answering its number; `decide(n)` decides profile `n`: every rule
//!    evaluated, the best score wins.
//! 4. `decide_json()` parses the buffer's profile and decides it, as a one-shot API would.
//!
//! Decisions answer the index of the best offer, or -1 when none is eligible; loading answers
//! the number of offers compiled, or -1 when the JSON is not what it should be.

use rapport::json::Value;
use rapport::rules::{Names, Paths, Rule, Scope};
use std::cell::RefCell;

#[derive(Default)]
struct State {
    input: Vec<u8>,
    rules: Vec<(Rule, f64)>,
    profiles: Vec<Value>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// The address of a zeroed `len`-byte input buffer (valid until the next call to `input`).
#[no_mangle]
pub extern "C" fn input(len: usize) -> *mut u8 {
    STATE.with_borrow_mut(|s| {
        s.input = vec![0; len];
        s.input.as_mut_ptr()
    })
}

#[no_mangle]
pub extern "C" fn load_offers() -> i32 {
    STATE.with_borrow_mut(|s| {
        let Some(Value::Array(offers)) = parse(&s.input) else { return -1 };
        let paths = Paths::default();
        let names = Names { paths: Some(&paths), ..Names::default() };
        let mut rules = Vec::with_capacity(offers.len());
        for offer in &offers {
            let (Some(rule), Some(score)) =
                (offer.get("jsonlogic"), offer.get("score").and_then(Value::as_f64))
            else {
                return -1;
            };
            let Ok(rule) = Rule::compile(rule, &names) else { return -1 };
            rules.push((rule, score));
        }
        s.rules = rules;
        s.rules.len() as i32
    })
}

#[no_mangle]
pub extern "C" fn add_profile() -> i32 {
    STATE.with_borrow_mut(|s| match parse(&s.input) {
        Some(profile) => {
            s.profiles.push(profile);
            s.profiles.len() as i32 - 1
        }
        None => -1,
    })
}

#[no_mangle]
pub extern "C" fn decide(profile: usize) -> i32 {
    STATE.with_borrow(|s| s.profiles.get(profile).map_or(-2, |p| best(&s.rules, p)))
}

#[no_mangle]
pub extern "C" fn decide_json() -> i32 {
    STATE.with_borrow(|s| match parse(&s.input) {
        Some(profile) => best(&s.rules, &profile),
        None => -2,
    })
}

/// JSON text in, as the core reads it (the SDK's path).
fn parse(input: &[u8]) -> Option<Value> {
    rapport::json::parse(std::str::from_utf8(input).ok()?).ok()
}

/// The best offer for `profile`: every rule evaluated, the highest score wins (first on ties).
fn best(rules: &[(Rule, f64)], profile: &Value) -> i32 {
    let scope = Scope::new(profile, 0, &[]);
    let mut best: Option<(usize, f64)> = None;
    for (i, (rule, score)) in rules.iter().enumerate() {
        if rule.test(&scope) && best.is_none_or(|(_, b)| *score > b) {
            best = Some((i, *score));
        }
    }
    best.map_or(-1, |(i, _)| i as i32)
}
