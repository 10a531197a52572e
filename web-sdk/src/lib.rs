//! Rapport in the browser: the core compiled to Wasm behind a small wasm-bindgen surface.
//!
//! The engine holds the bundle and the browser's profile fragment (replica `browser:<device>`),
//! so a signal applied with `track` changes the very next `decide`, with no round trip. JSON
//! strings cross the boundary (one `JSON.parse` on the JS side is smaller and faster than a
//! generic converter). Errors cross as real JS `Error`s whose `name` is the core's stable kind.
//! Storage, network and listeners live in the JS wrapper (`js/`); rendering uses web-sys.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use rapport::profile::{Consent, Event, Outcome};
use rapport::{Bundle, Decision, Profile, Request};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

/// A compiled bundle and the visitor's profile, ready to decide with.
#[wasm_bindgen]
pub struct Engine {
    bundle: Bundle,
    profile: Profile,
}

#[wasm_bindgen]
impl Engine {
    /// Compiles a catalog or bundle (JSON text); throws an `Error` named after the error kind.
    #[wasm_bindgen(constructor)]
    pub fn new(bundle_json: &str) -> Result<Engine, JsValue> {
        let bundle = Bundle::from_json(bundle_json).map_err(|errors| {
            let kind = errors.first().map_or("parse", |e| e.kind.as_str());
            let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            js_error(kind, &message)
        })?;
        Ok(Engine { bundle, profile: Profile::default() })
    }

    /// The bundle's content version.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.bundle.version.clone()
    }

    /// Sets up the browser's fragment for `replica`: the stored one (JSON, or empty), else a new
    /// one first known by the edge's visitor id when the edge sent a fragment (so experiments
    /// allocate alike at the edge and here), else by `device_id`; then merges the edge's.
    pub fn load(&mut self, replica: &str, device_id: &str, stored: &str, edge: &str) {
        let edge = Profile::from_json(edge).ok();
        let mut profile = Profile::from_json(stored).ok().unwrap_or_else(|| {
            let key = edge.as_ref().and_then(|e| e.key().map(str::to_owned));
            Profile::new(replica, key.as_deref().unwrap_or(device_id))
        });
        profile.replica = replica.to_owned();
        if let Some(edge) = edge.filter(|e| profile.same_person(e, &self.bundle.schema)) {
            profile.merge(&edge);
        }
        self.profile = profile;
    }

    /// Merges another fragment of the same person (e.g. from another tab).
    pub fn merge(&mut self, fragment: &str) {
        if let Ok(other) = Profile::from_json(fragment) {
            if self.profile.same_person(&other, &self.bundle.schema) {
                self.profile.merge(&other);
            }
        }
    }

    /// Validates and applies one event (`{id, type, ts, props}`) at once. Returns
    /// `{"outcome": "applied"|"duplicate"|"dropped", "reason"?, "event"}` with the event as it
    /// should be sent to the edge (its `origin` set to this replica); throws on a bad event.
    pub fn track(&mut self, event_json: &str) -> Result<String, JsValue> {
        let value: Value = serde_json::from_str(event_json).map_err(|e| js_error("parse", &e.to_string()))?;
        let mut event =
            Event::from_value(&value, true).map_err(|e| js_error(e.kind.as_str(), &e.to_string()))?;
        event.origin.get_or_insert_with(|| self.profile.replica.clone());
        let outcome = self.profile.apply(&self.bundle.schema, &event);
        let (name, reason) = match outcome {
            Outcome::Applied => ("applied", None),
            Outcome::Duplicate => ("duplicate", None),
            Outcome::Dropped(reason) => ("dropped", Some(reason)),
        };
        Ok(json!({ "outcome": name, "reason": reason, "event": event }).to_string())
    }

    /// `granted`, `denied` or `pending`.
    pub fn consent(&self) -> String {
        self.profile.consent(&self.bundle.schema).as_str().to_owned()
    }

    /// The fragment to keep in storage: all of it with consent; without, only the consent record.
    pub fn fragment(&self) -> String {
        if self.profile.consent(&self.bundle.schema) == Consent::Granted {
            return self.profile.to_json();
        }
        let kept = Profile {
            replica: self.profile.replica.clone(),
            consent: self.profile.consent,
            ..Profile::default()
        };
        kept.to_json()
    }

    /// The profile view at `now` (ms).
    pub fn view(&self, now: f64) -> String {
        serde_json::to_string(&self.bundle.view(&self.profile, now as i64)).unwrap_or_default()
    }

    /// Decides `placement` in `context_json` at `now` (ms); returns the decision as JSON.
    /// `seed` is per-decision randomness; pass `undefined` to draw one from `crypto`.
    pub fn decide(
        &mut self,
        placement: &str,
        context_json: &str,
        now: f64,
        seed: Option<f64>,
    ) -> Result<String, JsValue> {
        let context = parse_context(context_json)?;
        let seed = seed.map_or_else(random_seed, |s| s as u64);
        to_json(&self.decision(placement, &context, now, seed))
    }

    /// Fills every `[data-rapport-placement]` element that the edge has not already filled
    /// (no `data-rapport-decision`) from a local decision; returns the decisions as a JSON array.
    pub fn render(&mut self, context_json: &str, now: f64) -> Result<String, JsValue> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| js_error("not_found", "render needs a document"))?;
        let context = parse_context(context_json)?;
        let elements =
            document.query_selector_all("[data-rapport-placement]:not([data-rapport-decision])")?;
        let mut decisions = Vec::new();
        for i in 0..elements.length() {
            let Some(element) = elements.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else {
                continue;
            };
            let Some(placement) = element.get_attribute("data-rapport-placement") else { continue };
            let decision = self.decision(&placement, &context, now, random_seed());
            if let Some(item) = decision.items.first() {
                if let Some(html) = &item.content.html {
                    element.set_inner_html(html);
                }
                element.set_attribute("data-rapport-offer", &item.offer)?;
            }
            element.set_attribute("data-rapport-decision", &decision.decision_id)?;
            decisions.push(decision);
        }
        to_json(&decisions)
    }
}

impl Engine {
    fn decision(&mut self, placement: &str, context: &Value, now: f64, seed: u64) -> Decision {
        let request = Request { placement, context, now: now as i64, seed, trace: false };
        rapport::decide(&self.bundle, &mut self.profile, &request)
    }
}

/// The rule context for this page from what the browser knows (`rapport::context`, as at the edge).
#[wasm_bindgen(js_name = pageContext)]
pub fn page_context(url: &str, path: &str, referrer: &str, title: &str, user_agent: &str) -> String {
    let facts =
        rapport::context::RequestFacts { url, path, referrer, title, user_agent, ..Default::default() };
    rapport::context::request_context(&facts).to_string()
}

/// One `rapport eval` line, evaluated by the Wasm build of the rules engine.
#[wasm_bindgen(js_name = evalLine)]
pub fn eval_line(line: &str) -> String {
    rapport::rules::eval_line(line)
}

fn parse_context(json: &str) -> Result<Value, JsValue> {
    serde_json::from_str(json).map_err(|e| js_error("parse", &format!("context: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, JsValue> {
    serde_json::to_string(value).map_err(|e| js_error("parse", &e.to_string()))
}

fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    // Without a CSPRNG the seed is 0: decisions stay valid, ids merely repeat.
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// A JS `Error` whose `name` is the stable kind.
fn js_error(kind: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(kind);
    error.into()
}
