//! Journeys (contract §5, `rapport simulate`): a marketer replays what a visitor does against a
//! catalog and sees every decision, and why, before publishing. Shared by the CLI and the
//! browser playground, so both show exactly what the edge and the SDK would decide.

use crate::error::Error;
use crate::hash::fnv1a_64;
use crate::json::Value;
use crate::profile::{Event, Outcome};
use crate::util::{cat, num};
use crate::{Bundle, Profile, Request};

/// What a journey printed: one line per `decide` or `profile` step, and one message per line
/// that could not be run (bad JSON, a bad event) or event deliberately not applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replay {
    pub outputs: Vec<String>,
    pub errors: Vec<String>,
    /// Whether any line was malformed (a dropped event is not a failure).
    pub failed: bool,
}

/// Replays journey lines (`{"at", "event"}`, `{"at", "decide", "context"?}`, `{"at", "profile"}`)
/// for a new profile first known as `profile_id`. Decision seeds derive from the profile id,
/// the time and the placement, so a replay is repeatable.
pub fn replay(bundle: &Bundle, profile_id: &str, journey: &str, trace: bool) -> Replay {
    let mut profile = Profile::new("simulate", profile_id);
    let mut out = Replay::default();
    for (i, text) in journey.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line = cat(&["line ", &num(i as u64 + 1), ": "]);
        let step: Value = match crate::json::parse(text) {
            Ok(v) => v,
            Err(e) => {
                out.fail(cat(&[&line, "not JSON: ", &e.text()]));
                continue;
            }
        };
        let Some(at) = step.get("at").and_then(Value::as_i64) else {
            out.fail(cat(&[&line, "/at: every journey line needs \"at\" (epoch ms)"]));
            continue;
        };
        if let Some(event) = step.get("event") {
            let mut event = event.clone();
            if let Value::Object(map) = &mut event {
                map.get_or_insert_with("ts", || Value::from(at));
            }
            match event_with_id(&event) {
                Ok(event) => {
                    if let Outcome::Dropped(reason) = profile.apply(&bundle.schema, &event) {
                        out.errors.push(cat(&[&line, "dropped: ", reason]));
                    }
                }
                Err(e) => out.fail(cat(&[&line, &e.under("/event").text()])),
            }
        } else if let Some(placement) = step.get("decide").and_then(Value::as_str) {
            let context = step.get("context").cloned().unwrap_or_else(|| Value::Object(Default::default()));
            if let Some(country) = context.get("geo").and_then(|g| g.get("country")).and_then(Value::as_str) {
                profile.observe_country(country, at);
            }
            let mut key = cat(&[profile_id, ":"]);
            crate::util::push_int(&mut key, at);
            key.push(':');
            key.push_str(placement);
            let seed = fnv1a_64(key.as_bytes());
            let request = Request { placement, context: &context, now: at, seed, trace };
            out.outputs.push(crate::decide(bundle, &mut profile, &request).to_json());
        } else if step.get("profile").is_some() {
            out.outputs.push(bundle.view(&profile, at).to_json());
        } else {
            out.fail(cat(&[&line, "a journey line has \"event\", \"decide\" or \"profile\""]));
        }
    }
    out
}

impl Replay {
    fn fail(&mut self, message: String) {
        self.failed = true;
        self.errors.push(message);
    }
}

/// An event from a journey or an events file: one without an id gets one derived from its
/// content, so the same line given twice is the same event.
pub fn event_with_id(value: &Value) -> Result<Event, Error> {
    let mut value = value.clone();
    if let Value::Object(map) = &mut value {
        if !map.contains_key("id") {
            let digest = fnv1a_64(crate::json::text(&Value::Object(map.clone())).as_bytes());
            map.insert("id".into(), Value::String(cat(&["gen-", &crate::util::hex(digest, 16)])));
        }
    }
    Event::from_value(&value, true)
}
