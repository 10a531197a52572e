//! Rapport in the browser: the core compiled to Wasm behind the smallest wasm-bindgen surface
//! that does the job: text in, text out.
//!
//! The engine holds the bundle and the browser's profile fragment (replica `browser:<device>`),
//! so a signal applied with `track` changes the very next `decide`, with no round trip. JS
//! reaches it through one export, [`Engine::call`], and the page's context through
//! [`page_context_of`]: wasm-bindgen writes a JS wrapper and a Wasm shim for every export, and
//! for ten exports that was more glue than `core.js` has logic. Only text crosses the boundary:
//! JSON (one `JSON.parse` on the JS side is smaller and faster than a generic converter), and
//! errors as text too (see [`Failure`]), which `core.js` throws as JS `Error`s named after the
//! core's stable kind. So no JS object ever crosses, and the glue keeps no table of them.
//! Storage, network, listeners and the DOM live in the JS wrapper (`js/`): rendering writes the
//! decisions this returns into the placements.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use rapport::json;
use rapport::json::Value;
use rapport::profile::{Consent, Event, Outcome};
use rapport::{Bundle, Profile, Request};
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
mod alloc;
#[cfg(feature = "tools")]
pub mod tools;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: alloc::Blocks = alloc::Blocks::new();

/// Why an operation failed: the core's stable error kind (the JS `Error`'s `name`) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: &'static str,
    pub message: String,
}

impl Failure {
    fn new(kind: &'static str, message: &str) -> Failure {
        Failure { kind, message: message.to_owned() }
    }

    /// As [`Engine::call`] answers it: NUL, the kind, NUL, the message. No answer that succeeds
    /// starts with NUL (JSON text, a consent status, `""`, or a bundle's version, which
    /// `from_compiled` refuses with a NUL in it), so `core.js` tells the two apart by the first
    /// character.
    fn encoded(&self) -> String {
        rapport::util::cat(&["\0", self.kind, "\0", &self.message])
    }
}

/// A compiled bundle and the visitor's profile, ready to decide with.
#[wasm_bindgen]
pub struct Engine {
    bundle: Option<Bundle>,
    profile: Profile,
}

#[wasm_bindgen]
impl Engine {
    /// An engine with no bundle yet: the first operation is `bundle`.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)] // JS's `new Engine()`; Rust uses `Engine::open`.
    pub fn new() -> Engine {
        Engine { bundle: None, profile: Profile::default() }
    }

    /// Every operation JS asks of the engine: [`Engine::run`]'s answer, or its [`Failure`]
    /// encoded (NUL, kind, NUL, message).
    pub fn call(&mut self, op: &str, args: &str, now: f64, seed: f64) -> String {
        self.run(op, args, now, seed).unwrap_or_else(|failure| failure.encoded())
    }
}

impl Engine {
    /// An engine with `bundle_json` loaded (the `bundle` operation).
    pub fn open(bundle_json: &str) -> Result<Engine, Failure> {
        let mut engine = Engine::new();
        engine.run("bundle", bundle_json, 0.0, 0.0)?;
        Ok(engine)
    }

    /// Runs operation `op`. Its text arguments come in `args`, joined by NUL (which JSON text
    /// never holds raw; `core.js` passes any other argument holding one as `""`); `now` (ms) and
    /// `seed` are the clock and randomness of the operations that take them, drawn by the caller
    /// (`core.js`: `Date.now()` and `crypto`), which keeps the core free of both.
    ///
    /// | `op` | `args` | answers |
    /// | --- | --- | --- |
    /// | `bundle` | a compiled bundle of format 2 (what `GET /v1/bundle?format=2` serves or `rapport compile --browser` writes) | `""`; see `Bundle::from_compiled` |
    /// | `load` | replica, device id, stored fragment, edge fragment (either may be `""`) | `""` |
    /// | `track` | an event `{id, type, ts, props}` | `{event, outcome, reason}` |
    /// | `decide` | placement, context, `trace` or `""` | the decision |
    /// | `render` | context, then the placement of each element to fill | the decisions, element `i` seeded `seed + i` |
    /// | `consent` | | `granted`, `denied` or `pending` |
    /// | `fragment` | | the fragment to store |
    /// | `view` | | the profile view at `now` |
    /// | `version` | | the bundle's content version |
    pub fn run(&mut self, op: &str, args: &str, now: f64, seed: f64) -> Result<String, Failure> {
        if op == "bundle" {
            let bundle = Bundle::from_compiled(args).map_err(|errors| {
                let kind = errors.first().map_or("parse", |e| e.kind.as_str());
                let mut message = String::new();
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        message.push('\n');
                    }
                    message.push_str(&e.text());
                }
                Failure { kind, message }
            })?;
            self.bundle = Some(bundle);
            return Ok(String::new());
        }
        let Some(bundle) = &self.bundle else {
            return Err(Failure::new("not_found", "no bundle loaded: the first operation is bundle"));
        };
        let profile = &mut self.profile;
        let mut args = rapport::util::split(args, 0);
        let mut arg = || args.next().unwrap_or_default();
        Ok(match op {
            "load" => {
                let (replica, device_id, stored, edge) = (arg(), arg(), arg(), arg());
                *profile = load(bundle, replica, device_id, stored, edge);
                String::new()
            }
            "track" => track(bundle, profile, arg())?,
            "decide" => {
                let (placement, context, trace) = (arg(), parse_context(arg())?, arg() == "trace");
                let request =
                    Request { placement, context: &context, now: now as i64, seed: seed as u64, trace };
                rapport::decide(bundle, profile, &request).to_json()
            }
            "render" => {
                let context = parse_context(arg())?;
                json::written(|out| {
                    json::open(out, '[');
                    for (i, placement) in args.enumerate() {
                        let seed = (seed as u64).wrapping_add(i as u64);
                        let request =
                            Request { placement, context: &context, now: now as i64, seed, trace: false };
                        rapport::decide(bundle, profile, &request).write_json(out);
                    }
                    out.push(']');
                })
            }
            "consent" => profile.consent(&bundle.schema).as_str().to_owned(),
            "fragment" => fragment(bundle, profile),
            "view" => bundle.view(profile, now as i64).to_json(),
            "version" => bundle.version.clone(),
            _ => return Err(Failure::new("invalid", &rapport::util::cat(&["unknown operation ", op]))),
        })
    }
}

/// The browser's fragment for `replica`: the stored one (JSON, or empty), else a new one first
/// known by the edge's visitor id when the edge sent a fragment (so experiments allocate alike at
/// the edge and here), else by `device_id` (a stored fragment without an identity, kept while
/// consent was not granted, gets that one too); then the edge's merged in. Both fragments are
/// Rapport's own, read without the shape check (`from_trusted_json`).
fn load(bundle: &Bundle, replica: &str, device_id: &str, stored: &str, edge: &str) -> Profile {
    let edge = Profile::from_trusted_json(edge);
    let key = edge.as_ref().and_then(|e| e.key().map(str::to_owned));
    let fresh = || Profile::new(replica, key.as_deref().unwrap_or(device_id));
    let mut profile = Profile::from_trusted_json(stored).unwrap_or_else(fresh);
    if profile.ids.is_empty() {
        // What is stored without consent: the consent record alone. Without an identity the
        // profile would have no experiment key and never be the edge's person.
        profile.ids = fresh().ids;
    }
    profile.replica = replica.to_owned();
    if let Some(edge) = edge.filter(|e| profile.same_person(e, &bundle.schema)) {
        profile.merge(&edge);
    }
    profile
}

/// Validates and applies one event at once. Answers `{"event", "outcome": "applied" |
/// "duplicate" | "dropped", "reason"}` with the event as it should be sent to the edge (its
/// `origin` set to this replica).
fn track(bundle: &Bundle, profile: &mut Profile, event_json: &str) -> Result<String, Failure> {
    let value = json::parse(event_json).map_err(|e| Failure::new("parse", &e.text()))?;
    let mut event = Event::from_value(&value, true).map_err(|e| Failure::new(e.kind.as_str(), &e.text()))?;
    event.origin.get_or_insert_with(|| profile.replica.clone());
    let (name, reason) = match profile.apply(&bundle.schema, &event) {
        Outcome::Applied => ("applied", None),
        Outcome::Duplicate => ("duplicate", None),
        Outcome::Dropped(reason) => ("dropped", Some(reason)),
    };
    Ok(json::written(|out| {
        json::open(out, '{');
        json::key(out, "event");
        out.push_str(&event.to_json());
        json::key(out, "outcome");
        json::string(out, name);
        json::key(out, "reason");
        match reason {
            Some(reason) => json::string(out, reason),
            None => json::null(out),
        }
        out.push('}');
    }))
}

/// The fragment to keep in storage: all of it with consent; without, only the consent record.
fn fragment(bundle: &Bundle, profile: &Profile) -> String {
    if profile.consent(&bundle.schema) == Consent::Granted {
        return profile.to_json();
    }
    let kept = Profile { replica: profile.replica.clone(), consent: profile.consent, ..Profile::default() };
    kept.to_json()
}

/// [`page_context`] for JS: url, path, referrer, title and user agent joined by NUL (one text
/// argument: each argument costs the glue its own conversion code).
#[wasm_bindgen(js_name = pageContext)]
pub fn page_context_of(fields: &str) -> String {
    let mut fields = rapport::util::split(fields, 0);
    let mut field = || fields.next().unwrap_or_default();
    let (url, path, referrer, title, user_agent) = (field(), field(), field(), field(), field());
    page_context(url, path, referrer, title, user_agent)
}

/// The rule context for this page from what the browser knows (`rapport::context`, as at the edge).
pub fn page_context(url: &str, path: &str, referrer: &str, title: &str, user_agent: &str) -> String {
    let facts =
        rapport::context::RequestFacts { url, path, referrer, title, user_agent, ..Default::default() };
    json::text(&rapport::context::request_context(&facts))
}

fn parse_context(json: &str) -> Result<Value, Failure> {
    json::parse(json).map_err(|e| Failure::new("parse", &rapport::util::cat(&["context: ", &e.text()])))
}
