//! Events (contract §3): validation with an error that names the field, and batches in which a
//! bad event is rejected while the rest are kept.

use crate::error::{Error, ErrorKind};
use crate::json;
use crate::json::{Map, Value};
use crate::util::{cat, num};

/// Largest `props`, as JSON.
pub const MAX_PROPS_BYTES: usize = 4096;
/// Most keys in `props`.
pub const MAX_PROPS_KEYS: usize = 64;
/// Most events in one batch over HTTP.
pub const MAX_BATCH: usize = 100;
const MAX_ID_BYTES: usize = 128;
/// Largest attribute value (from `set` or `identify` traits), as JSON.
pub const MAX_ATTRIBUTE_BYTES: usize = 128;
/// The latest timestamp an event may have: beyond it (year 2255) are no plausible milliseconds.
pub(crate) const MAX_TS: i64 = 9_000_000_000_000;

/// A validated event; as JSON `{id, type, ts, props, origin?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    /// Serialised as `type`.
    pub kind: String,
    pub ts: i64,
    pub props: Map,
    /// The replica that first recorded the event (Rapport's extension; defaults to the replica
    /// that applies it). Counters are kept per origin, so an event the browser applied and then
    /// sent to the edge is counted once when the two fragments merge.
    pub origin: Option<String>,
}

/// One rejected event of a batch; as JSON `{index, error}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub index: usize,
    pub error: Error,
}

json::serialize_as_text!(Event, Rejected);

impl Rejected {
    /// `{index, error}`.
    pub fn to_json(&self) -> String {
        json::written(|out| {
            json::open(out, '{');
            json::key(out, "index");
            json::uint(out, self.index as u64);
            json::key(out, "error");
            self.error.write_json(out);
            out.push('}');
        })
    }
}

impl Event {
    /// `{id, type, ts, props, origin?}`.
    pub fn to_json(&self) -> String {
        json::written(|out| {
            json::open(out, '{');
            json::key(out, "id");
            json::string(out, &self.id);
            json::key(out, "type");
            json::string(out, &self.kind);
            json::key(out, "ts");
            json::int(out, self.ts);
            json::key(out, "props");
            json::object(out, &self.props);
            if let Some(origin) = &self.origin {
                json::key(out, "origin");
                json::string(out, origin);
            }
            out.push('}');
        })
    }

    /// Validates one event. `require_id`: over HTTP an id is required (retries dedupe by it).
    pub fn from_value(value: &Value, require_id: bool) -> Result<Event, Error> {
        let Value::Object(map) = value else {
            return Err(invalid("", "an event must be a JSON object"));
        };
        if let Some(unknown) =
            map.keys().find(|k| !matches!(k.as_str(), "id" | "type" | "ts" | "props" | "origin"))
        {
            return Err(invalid(&cat(&["/", unknown]), "unknown field (an event has id, type, ts, props)"));
        }
        let id = match map.get("id") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_BYTES => s.clone(),
            Some(_) => return Err(invalid("/id", "id must be a non-empty string of at most 128 bytes")),
            None if require_id => return Err(invalid("/id", "id is required")),
            None => String::new(),
        };
        let kind = match map.get("type") {
            Some(Value::String(s)) if is_identifier(s) => s.clone(),
            Some(_) => return Err(invalid("/type", "type must match [A-Za-z0-9_.:-]{1,128}")),
            None => return Err(invalid("/type", "type is required")),
        };
        let ts = match map.get("ts").map(Value::as_i64) {
            Some(Some(ts)) if (0..=MAX_TS).contains(&ts) => ts,
            Some(_) => return Err(invalid("/ts", "ts must be an integer of epoch milliseconds")),
            None => return Err(invalid("/ts", "ts is required")),
        };
        let props = match map.get("props") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(p)) => p.clone(),
            Some(_) => return Err(invalid("/props", "props must be an object")),
        };
        if props.len() > MAX_PROPS_KEYS {
            return Err(too_large(
                "/props",
                &cat(&[
                    "props has ",
                    &num(props.len() as u64),
                    " keys; at most ",
                    &num(MAX_PROPS_KEYS as u64),
                ]),
            ));
        }
        let size = json::object_text(&props).len();
        if size > MAX_PROPS_BYTES {
            return Err(too_large(
                "/props",
                &cat(&[
                    "props is ",
                    &num(size as u64),
                    " bytes as JSON; at most ",
                    &num(MAX_PROPS_BYTES as u64),
                ]),
            ));
        }
        let origin = match map.get("origin") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if is_identifier(s) => Some(s.clone()),
            Some(_) => return Err(invalid("/origin", "origin must name a replica, like browser:d1")),
        };
        let event = Event { id, kind, ts, props, origin };
        event.check_reserved()?;
        Ok(event)
    }

    /// The reserved types' props (contract §3).
    fn check_reserved(&self) -> Result<(), Error> {
        let text = |key: &str| self.props.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
        let need = |key: &str, what: &str| match text(key) {
            Some(_) => Ok(()),
            None => {
                Err(invalid(&cat(&["/props/", key]), &cat(&[&self.kind, " needs ", key, " (", what, ")"])))
            }
        };
        match self.kind.as_str() {
            "identify" => {
                need("namespace", "the identity's namespace, like crm")?;
                if !text("namespace").is_some_and(is_identifier) {
                    return Err(invalid("/props/namespace", "namespace must match [A-Za-z0-9_.:-]{1,128}"));
                }
                need("id", "the id in that namespace")?;
                match self.props.get("traits") {
                    None | Some(Value::Null) => Ok(()),
                    Some(Value::Object(traits)) => check_attributes(traits, "/props/traits"),
                    Some(_) => Err(invalid("/props/traits", "traits must be an object")),
                }
            }
            "set" => check_attributes(&self.props, "/props"),
            "consent" => match text("personalization") {
                Some("granted" | "denied") => Ok(()),
                _ => Err(invalid("/props/personalization", "personalization must be granted or denied")),
            },
            "impression" | "click" => need("offer", "the offer's id"),
            _ => Ok(()),
        }
    }

    /// The attributes an event sets: identifier names, small values.
    pub fn attributes(&self) -> Option<&Map> {
        match self.kind.as_str() {
            "set" => Some(&self.props),
            "identify" => self.props.get("traits").and_then(Value::as_object),
            _ => None,
        }
    }
}

fn check_attributes(attributes: &Map, at: &str) -> Result<(), Error> {
    for (name, value) in attributes {
        let path = cat(&[at, "/", &crate::error::pointer_token(name)]);
        if !is_identifier(name) {
            return Err(invalid(&path, "attribute names match [A-Za-z0-9_.:-]{1,128}"));
        }
        let size = json::text(value).len();
        if size > MAX_ATTRIBUTE_BYTES {
            return Err(too_large(
                &path,
                &cat(&[
                    "attribute value is ",
                    &num(size as u64),
                    " bytes as JSON; at most ",
                    &num(MAX_ATTRIBUTE_BYTES as u64),
                ]),
            ));
        }
    }
    Ok(())
}

/// Validates a batch `{"events": [...]}` or a bare array: the good events in order, and one
/// rejection per bad event, by index.
pub fn parse_batch(value: &Value, require_id: bool) -> Result<(Vec<Event>, Vec<Rejected>), Error> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("events") {
            Some(Value::Array(items)) => items,
            _ => return Err(invalid("/events", "a batch is {\"events\": [...]}")),
        },
        _ => return Err(invalid("", "a batch is {\"events\": [...]}")),
    };
    if items.len() > MAX_BATCH {
        return Err(too_large(
            "/events",
            &cat(&[&num(items.len() as u64), " events in one batch; at most ", &num(MAX_BATCH as u64)]),
        ));
    }
    let mut events = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match Event::from_value(item, require_id) {
            Ok(e) => events.push(e),
            Err(error) => {
                rejected.push(Rejected { index, error: error.under(&cat(&["/events/", &num(index as u64)])) })
            }
        }
    }
    Ok((events, rejected))
}

/// Contract §0 identifiers: `[A-Za-z0-9_.:-]{1,128}`.
pub fn is_identifier(s: &str) -> bool {
    if s.is_empty() || s.len() > 128 {
        return false;
    }
    for b in s.bytes() {
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-')) {
            return false;
        }
    }
    true
}

fn invalid(path: &str, message: &str) -> Error {
    Error::new(ErrorKind::Invalid, path, message)
}

fn too_large(path: &str, message: &str) -> Error {
    Error::new(ErrorKind::TooLarge, path, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn error_path(v: Value) -> String {
        Event::from_value(&v, true).unwrap_err().path
    }

    #[test]
    fn a_good_event_validates_and_props_default_to_empty() {
        let e = Event::from_value(&json!({"id": "e1", "type": "page_view", "ts": 5}), true).unwrap();
        assert_eq!((e.id.as_str(), e.kind.as_str(), e.ts, e.props.len()), ("e1", "page_view", 5, 0));
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(error_path(json!({"type": "x", "ts": 1})), "/id");
        assert_eq!(error_path(json!({"id": "a", "ts": 1})), "/type");
        assert_eq!(error_path(json!({"id": "a", "type": "sp ace", "ts": 1})), "/type");
        assert_eq!(error_path(json!({"id": "a", "type": "x", "ts": "now"})), "/ts");
        assert_eq!(error_path(json!({"id": "a", "type": "x", "ts": 1.5})), "/ts");
        assert_eq!(error_path(json!({"id": "a", "type": "x", "ts": -1})), "/ts");
        assert_eq!(error_path(json!({"id": "a", "type": "x", "ts": 1, "props": []})), "/props");
        assert_eq!(error_path(json!({"id": "a", "type": "x", "ts": 1, "prop": {}})), "/prop");
        assert_eq!(
            error_path(json!({"id": "a", "type": "consent", "ts": 1, "props": {"personalization": "yes"}})),
            "/props/personalization"
        );
        assert_eq!(
            error_path(json!({"id": "a", "type": "identify", "ts": 1, "props": {"namespace": "crm"}})),
            "/props/id"
        );
        assert_eq!(
            error_path(json!({"id": "a", "type": "impression", "ts": 1, "props": {}})),
            "/props/offer"
        );
    }

    #[test]
    fn props_limits_hold() {
        let many: Map = (0..65).map(|i| (format!("k{i}"), json!(i))).collect();
        let e =
            Event::from_value(&json!({"id": "a", "type": "x", "ts": 1, "props": many}), true).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge);
        let big = "x".repeat(MAX_PROPS_BYTES);
        let e = Event::from_value(&json!({"id": "a", "type": "x", "ts": 1, "props": {"b": big}}), true)
            .unwrap_err();
        assert_eq!((e.kind, e.path.as_str()), (ErrorKind::TooLarge, "/props"));
    }

    #[test]
    fn a_batch_keeps_the_good_events() {
        let batch = json!({"events": [
            {"id": "a", "type": "x", "ts": 1},
            {"id": "b", "type": "x"},
            {"id": "c", "type": "y", "ts": 2}
        ]});
        let (good, bad) = parse_batch(&batch, true).unwrap();
        assert_eq!(good.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(bad.len(), 1);
        assert_eq!((bad[0].index, bad[0].error.path.as_str()), (1, "/events/1/ts"));
    }

    #[test]
    fn oversized_batches_are_refused_whole() {
        let events: Vec<Value> =
            (0..101).map(|i| json!({"id": format!("e{i}"), "type": "x", "ts": 1})).collect();
        assert_eq!(parse_batch(&json!({"events": events}), true).unwrap_err().kind, ErrorKind::TooLarge);
    }
}
