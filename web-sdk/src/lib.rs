//! Rapport in the browser: the core compiled to Wasm behind a small wasm-bindgen surface.
//!
//! The engine holds the bundle and the browser's profile fragment (replica `browser:<device>`),
//! so a signal applied with `track` changes the very next `decide`, with no round trip. JSON
//! strings cross the boundary (one `JSON.parse` on the JS side is smaller and faster than a
//! generic converter). Errors cross as real JS `Error`s whose `name` is the core's stable kind.
//! JS reaches the engine through one door, [`Engine::call`], and the page's context through
//! [`page_context_of`]: wasm-bindgen writes a JS wrapper and a Wasm shim for every export, which
//! for ten exports was more glue than `core.js` has logic.
//! Storage, network and listeners live in the JS wrapper (`js/`); rendering imports the four
//! DOM calls it needs directly (js-sys and web-sys would bring thousands of bindings' glue).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use rapport::json;
use rapport::json::Value;
use rapport::profile::{Consent, Event, Outcome};
use rapport::{Bundle, Decision, Profile, Request};
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
mod alloc;
#[cfg(feature = "tools")]
pub mod tools;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: alloc::Blocks = alloc::Blocks::new();

/// A compiled bundle and the visitor's profile, ready to decide with.
#[wasm_bindgen]
pub struct Engine {
    bundle: Bundle,
    profile: Profile,
}

#[wasm_bindgen]
impl Engine {
    /// Loads a compiled bundle (JSON text: what `GET /v1/bundle` serves or `rapport compile
    /// --browser` writes), trusting the checks its compilation made (`Bundle::from_compiled`);
    /// throws an `Error` named after the error kind, also for a catalog.
    #[wasm_bindgen(constructor)]
    pub fn new(bundle_json: &str) -> Result<Engine, JsValue> {
        let bundle = Bundle::from_compiled(bundle_json).map_err(|errors| {
            let kind = errors.first().map_or("parse", |e| e.kind.as_str());
            let mut message = String::new();
            for (i, e) in errors.iter().enumerate() {
                if i > 0 {
                    message.push('\n');
                }
                message.push_str(&e.text());
            }
            js_error(kind, &message)
        })?;
        Ok(Engine { bundle, profile: Profile::default() })
    }

    /// Every operation JS asks of the engine, by name: `op`'s text arguments come in `args`,
    /// joined by NUL (which JSON text never holds raw, nor do replica and device ids); `now` and
    /// `seed` are the clock and randomness of the operations that take them.
    ///
    /// | `op` | `args` | answers |
    /// | --- | --- | --- |
    /// | `load` | replica, device id, stored fragment, edge fragment | `""` |
    /// | `track` | event | [`Engine::track`] |
    /// | `decide` | placement, context, `trace` or `""` | [`Engine::decide`] |
    /// | `render` | context | [`Engine::render`] |
    /// | `consent`, `fragment`, `view`, `version` | | as the methods of those names |
    ///
    /// An unknown `op` throws an `Error` named `invalid`.
    pub fn call(&mut self, op: &str, args: &str, now: f64, seed: f64) -> Result<String, JsValue> {
        let mut args = args.split('\0');
        let mut arg = || args.next().unwrap_or_default();
        Ok(match op {
            "load" => {
                let (replica, device_id, stored, edge) = (arg(), arg(), arg(), arg());
                self.load(replica, device_id, stored, edge);
                String::new()
            }
            "track" => self.track(arg())?,
            "decide" => {
                let (placement, context, trace) = (arg(), arg(), arg());
                self.decide(placement, context, now, seed, Some(trace == "trace"))?
            }
            "render" => self.render(arg(), now, seed)?,
            "consent" => self.consent(),
            "fragment" => self.fragment(),
            "view" => self.view(now),
            "version" => self.version(),
            _ => return Err(js_error("invalid", &["unknown operation ", op].concat())),
        })
    }
}

/// What JS reaches through [`Engine::call`] (and Rust tests call directly).
impl Engine {
    /// The bundle's content version.
    pub fn version(&self) -> String {
        self.bundle.version.clone()
    }

    /// Sets up the browser's fragment for `replica`: the stored one (JSON, or empty), else a new
    /// one first known by the edge's visitor id when the edge sent a fragment (so experiments
    /// allocate alike at the edge and here), else by `device_id`; then merges the edge's.
    /// Both fragments are Rapport's own, read without the shape check (`from_trusted_json`).
    pub fn load(&mut self, replica: &str, device_id: &str, stored: &str, edge: &str) {
        let edge = Profile::from_trusted_json(edge);
        let mut profile = Profile::from_trusted_json(stored).unwrap_or_else(|| {
            let key = edge.as_ref().and_then(|e| e.key().map(str::to_owned));
            Profile::new(replica, key.as_deref().unwrap_or(device_id))
        });
        profile.replica = replica.to_owned();
        if let Some(edge) = edge.filter(|e| profile.same_person(e, &self.bundle.schema)) {
            profile.merge(&edge);
        }
        self.profile = profile;
    }

    /// Validates and applies one event (`{id, type, ts, props}`) at once. Returns
    /// `{"outcome": "applied"|"duplicate"|"dropped", "reason"?, "event"}` with the event as it
    /// should be sent to the edge (its `origin` set to this replica); throws on a bad event.
    pub fn track(&mut self, event_json: &str) -> Result<String, JsValue> {
        let value = json::parse(event_json).map_err(|e| js_error("parse", &e.text()))?;
        let mut event = Event::from_value(&value, true).map_err(|e| js_error(e.kind.as_str(), &e.text()))?;
        event.origin.get_or_insert_with(|| self.profile.replica.clone());
        let outcome = self.profile.apply(&self.bundle.schema, &event);
        let (name, reason) = match outcome {
            Outcome::Applied => ("applied", None),
            Outcome::Duplicate => ("duplicate", None),
            Outcome::Dropped(reason) => ("dropped", Some(reason)),
        };
        // Keys sorted, as a JSON object value has them.
        let event = json::parse(&event.to_json()).unwrap_or_default();
        Ok(json::written(|out| {
            json::open(out, '{');
            json::key(out, "event");
            json::value(out, &event);
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
        self.bundle.view(&self.profile, now as i64).to_json()
    }

    /// Decides `placement` in `context_json` at `now` (ms); returns the decision as JSON.
    /// `seed` is the decision's randomness, drawn by the caller (`core.js` from `crypto`), as
    /// `now` is its clock; `trace` explains every offer not chosen.
    pub fn decide(
        &mut self,
        placement: &str,
        context_json: &str,
        now: f64,
        seed: f64,
        trace: Option<bool>,
    ) -> Result<String, JsValue> {
        let context = parse_context(context_json)?;
        Ok(self.decision(placement, &context, now, seed as u64, trace.unwrap_or(false)).to_json())
    }

    /// Fills every `[data-rapport-placement]` element that the edge has not already filled
    /// (no `data-rapport-decision`) from a local decision; returns the decisions as a JSON array.
    /// The `i`th element's decision is seeded with `seed + i`.
    pub fn render(&mut self, context_json: &str, now: f64, seed: f64) -> Result<String, JsValue> {
        let elements = query_selector_all("[data-rapport-placement]:not([data-rapport-decision])")
            .map_err(|_| js_error("not_found", "render needs a document"))?;
        let context = parse_context(context_json)?;
        let mut decisions = Vec::new();
        for i in 0..elements.length() {
            let Some(element) = elements.item(i) else { continue };
            let Some(placement) = element.get_attribute("data-rapport-placement") else { continue };
            let seed = (seed as u64).wrapping_add(u64::from(i));
            let decision = self.decision(&placement, &context, now, seed, false);
            if let Some(item) = decision.items.first() {
                if let Some(html) = &item.content.html {
                    element.set_inner_html(html);
                }
                element.set_attribute("data-rapport-offer", &item.offer)?;
            }
            element.set_attribute("data-rapport-decision", &decision.decision_id)?;
            decisions.push(decision);
        }
        Ok(json::written(|out| {
            json::open(out, '[');
            for decision in &decisions {
                decision.write_json(out);
            }
            out.push(']');
        }))
    }

    fn decision(&mut self, placement: &str, context: &Value, now: f64, seed: u64, trace: bool) -> Decision {
        let request = Request { placement, context, now: now as i64, seed, trace };
        rapport::decide(&self.bundle, &mut self.profile, &request)
    }
}

/// [`page_context`] for JS: url, path, referrer, title and user agent joined by NUL (one text
/// argument: each argument costs the glue its own conversion code).
#[wasm_bindgen(js_name = pageContext)]
pub fn page_context_of(fields: &str) -> String {
    let mut fields = fields.split('\0');
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

fn parse_context(json: &str) -> Result<Value, JsValue> {
    json::parse(json).map_err(|e| js_error("parse", &["context: ", &e.text()].concat()))
}

/// A JS `Error` whose `name` is the stable kind.
fn js_error(kind: &str, message: &str) -> JsValue {
    let error = JsError::new(message);
    error.set_name(kind);
    error.into()
}

#[wasm_bindgen]
extern "C" {
    /// JS `Error`.
    #[wasm_bindgen(js_name = Error)]
    type JsError;
    #[wasm_bindgen(constructor, js_class = "Error")]
    fn new(message: &str) -> JsError;
    #[wasm_bindgen(method, setter = name, js_class = "Error")]
    fn set_name(this: &JsError, name: &str);

    /// The elements `document.querySelectorAll` found.
    type NodeList;
    /// Throws (an `Err` here) where there is no `document`.
    #[wasm_bindgen(catch, js_namespace = document, js_name = querySelectorAll)]
    fn query_selector_all(selectors: &str) -> Result<NodeList, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn length(this: &NodeList) -> u32;
    #[wasm_bindgen(method)]
    fn item(this: &NodeList, index: u32) -> Option<Element>;

    /// A DOM element.
    type Element;
    #[wasm_bindgen(method, js_name = getAttribute)]
    fn get_attribute(this: &Element, name: &str) -> Option<String>;
    #[wasm_bindgen(catch, method, js_name = setAttribute)]
    fn set_attribute(this: &Element, name: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter = innerHTML)]
    fn set_inner_html(this: &Element, html: &str);
}
