//! Rapport in the browser: the core compiled to Wasm behind a small wasm-bindgen surface.
//!
//! JSON strings cross the boundary (one `JSON.parse` on the JS side is smaller and faster than
//! a generic converter). Errors cross as real JS `Error`s whose `name` is the core's stable kind.
//! DOM, storage and network live in the JS wrapper (`js/`); this crate only decides.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use rapport::{Bundle, Decision, Profile, Request};
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// A compiled bundle, ready to decide with.
#[wasm_bindgen]
pub struct Engine {
    bundle: Bundle,
}

#[wasm_bindgen]
impl Engine {
    /// Compiles a catalog or bundle (JSON text); throws an `Error` named after the error kind.
    #[wasm_bindgen(constructor)]
    pub fn new(bundle_json: &str) -> Result<Engine, JsValue> {
        Bundle::from_json(bundle_json).map(|bundle| Engine { bundle }).map_err(|errors| {
            let kind = errors.first().map_or("parse", |e| e.kind.as_str());
            let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            js_error(kind, &message)
        })
    }

    /// The bundle's content version.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.bundle.version.clone()
    }

    /// Decides `placement` in `context_json` at `now` (ms); returns the decision as JSON.
    /// `seed` is per-decision randomness; pass `undefined` to draw one from `crypto`.
    pub fn decide(
        &self,
        placement: &str,
        context_json: &str,
        now: f64,
        seed: Option<f64>,
    ) -> Result<String, JsValue> {
        let context = parse_context(context_json)?;
        to_json(&self.decision(placement, &context, now, seed.map_or_else(random_seed, |s| s as u64)))
    }
}

impl Engine {
    fn decision(&self, placement: &str, context: &Value, now: f64, seed: u64) -> Decision {
        let request = Request { placement, context, now: now as i64, seed, trace: false };
        rapport::decide(&self.bundle, &mut Profile::default(), &request)
    }
}

#[wasm_bindgen]
impl Engine {
    /// Fills every `[data-rapport-placement]` element that the edge has not already filled
    /// (no `data-rapport-decision`) from a local decision; returns the decisions as a JSON array.
    pub fn render(&self, context_json: &str, now: f64) -> Result<String, JsValue> {
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
            let Some(placement) = element.get_attribute("data-rapport-placement") else {
                continue;
            };
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
