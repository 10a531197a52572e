//! The catalog's shape, written once: `check` reports every unknown field and wrong type with
//! its pointer (serde would stop at the first), and `json_schema` turns the same description into
//! the published JSON Schema (`schema/catalog.schema.json`), so editors and the core agree.
//! Profile fragments are checked against a shape too (`profile::fragment`), before they are read.

use crate::error::{pointer_token, Error, ErrorKind};
use crate::json;
use crate::json::{Map, Value};
use crate::profile::event::is_identifier;
use crate::util::{cat, num};

/// What a JSON value must look like.
#[derive(Debug)]
pub enum Shape {
    Str,
    /// `[A-Za-z0-9_.:-]{1,128}`.
    Id,
    /// A duration like `"30m"` (checked in depth by compilation).
    Duration,
    /// An integer ≥ 0.
    Count,
    /// An integer (ms, priorities).
    Int,
    Num,
    Bool,
    /// A JsonLogic rule (checked by compilation).
    Rule,
    /// Any JSON.
    Any,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    Obj(&'static [Field]),
    /// An object whose keys are identifiers.
    Map(&'static Shape),
    List(&'static Shape),
    /// Either of two shapes (used for `ranking`).
    Either(&'static Shape, &'static Shape),
    /// A whole number ≥ 0 (up to 2^64 - 1).
    UInt,
    /// An array of these items; the last `.1` of them may be left out.
    Tuple(&'static [Shape], usize),
    /// An object with any keys.
    Entries(&'static Shape),
    /// An object with exactly one of these fields (an enum's variant).
    OneField(&'static [Field]),
    /// `null`, or the shape.
    OrNull(&'static Shape),
}

/// A field of an object shape.
#[derive(Debug)]
pub struct Field(pub &'static str, pub Shape, pub bool);

pub(crate) const fn req(name: &'static str, shape: Shape) -> Field {
    Field(name, shape, true)
}
pub(crate) const fn opt(name: &'static str, shape: Shape) -> Field {
    Field(name, shape, false)
}

const CONSENT: Shape = Shape::Obj(&[
    opt("default", Shape::OneOf(&["granted", "denied", "pending"])),
    opt("opt_in_countries", Shape::List(&Shape::Str)),
]);
const FATIGUE: Shape = Shape::Obj(&[
    req("tags", Shape::List(&Shape::Id)),
    req("max", Shape::Count),
    req("window", Shape::Duration),
]);
const SETTINGS: Shape = Shape::Obj(&[
    opt("consent", CONSENT),
    opt("merge_policy", Shape::Obj(&[opt("attributes", Shape::Any)])),
    opt("fatigue", Shape::List(&FATIGUE)),
    opt("session_timeout", Shape::Duration),
    opt("unique_namespaces", Shape::List(&Shape::Id)),
]);
const COMPUTED: Shape = Shape::Obj(&[
    req("event", Shape::Id),
    opt("where", Shape::Rule),
    req("agg", Shape::OneOf(&["count", "sum", "min", "max", "first", "last", "distinct"])),
    opt("field", Shape::Str),
    opt("window", Shape::Duration),
]);
const PLACEMENT: Shape = Shape::Obj(&[
    opt("fallback", Shape::Id),
    opt("max_items", Shape::Count),
    opt(
        "ranking",
        Shape::Either(&Shape::OneOf(&["priority", "bandit"]), &Shape::Obj(&[req("formula", Shape::Rule)])),
    ),
]);
const CAP: Shape = Shape::Obj(&[
    req("max", Shape::Count),
    req("window", Shape::Duration),
    opt("on", Shape::OneOf(&["impression", "click"])),
]);
const OFFER: Shape = Shape::Obj(&[
    req("id", Shape::Id),
    req("placements", Shape::List(&Shape::Id)),
    opt("audience", Shape::Id),
    opt("eligibility", Shape::Rule),
    opt("priority", Shape::Int),
    opt("tags", Shape::List(&Shape::Id)),
    opt("start", Shape::Int),
    opt("end", Shape::Int),
    opt("caps", Shape::List(&CAP)),
    opt("content", Shape::Obj(&[opt("html", Shape::Str), opt("data", Shape::Any)])),
    opt("edge_only", Shape::Bool),
    opt("experiment_only", Shape::Bool),
]);
const SUPPRESSION: Shape =
    Shape::Obj(&[req("id", Shape::Id), req("when", Shape::Rule), req("tags", Shape::List(&Shape::Id))]);
const VARIANT: Shape =
    Shape::Obj(&[req("id", Shape::Id), req("weight", Shape::Num), opt("offer", Shape::Id)]);
const EXPERIMENT: Shape = Shape::Obj(&[
    req("id", Shape::Id),
    req("placement", Shape::Id),
    opt("audience", Shape::Id),
    req("traffic", Shape::Num),
    req("variants", Shape::List(&VARIANT)),
    opt("start", Shape::Int),
    opt("end", Shape::Int),
]);
/// The whole catalog (contract §1).
pub const CATALOG: Shape = Shape::Obj(&[
    req("catalog", Shape::Str),
    opt("settings", SETTINGS),
    opt("computed", Shape::Map(&COMPUTED)),
    opt("audiences", Shape::Map(&Shape::Rule)),
    opt("placements", Shape::Map(&PLACEMENT)),
    opt("offers", Shape::List(&OFFER)),
    opt("suppressions", Shape::List(&SUPPRESSION)),
    opt("experiments", Shape::List(&EXPERIMENT)),
]);

/// Every shape error in a catalog, and whether any of them blocks reading it (a wrong type, an
/// unknown or missing field; a malformed identifier does not, so compilation can go on and
/// report its own errors too).
pub fn check(value: &Value) -> (Vec<Error>, bool) {
    let mut errors = Vec::new();
    walk(value, &CATALOG, "", &mut errors);
    let blocking = errors.iter().any(|e| !crate::util::contains(&e.message, IDENTIFIER));
    (errors, blocking)
}

const IDENTIFIER: &str = "is not an identifier";

/// Every error of `value` against `shape`, each with its pointer.
pub fn errors(value: &Value, shape: &Shape) -> Vec<Error> {
    let mut errors = Vec::new();
    walk(value, shape, "", &mut errors);
    errors
}

fn walk(value: &Value, shape: &Shape, at: &str, errors: &mut Vec<Error>) {
    let wrong = |errors: &mut Vec<Error>, what: &str| {
        errors.push(Error::new(ErrorKind::Invalid, at, cat(&["expected ", what, ", found ", kind(value)])));
    };
    match shape {
        Shape::Str | Shape::Duration => {
            if !value.is_string() {
                wrong(errors, "a string");
            }
        }
        Shape::Id => match value.as_str() {
            Some(s) if is_identifier(s) => {}
            Some(s) => errors.push(Error::new(
                ErrorKind::Invalid,
                at,
                cat(&[&json::quoted(s), " is not an identifier ([A-Za-z0-9_.:-]{1,128})"]),
            )),
            None => wrong(errors, "an identifier string"),
        },
        Shape::Count => {
            if value.as_u64().is_none_or(|n| n > u64::from(u32::MAX)) {
                wrong(errors, "a whole number ≥ 0");
            }
        }
        Shape::Int => {
            if value.as_i64().is_none() {
                wrong(errors, "an integer");
            }
        }
        Shape::Num => {
            if !value.is_number() {
                wrong(errors, "a number");
            }
        }
        Shape::Bool => {
            if !value.is_boolean() {
                wrong(errors, "true or false");
            }
        }
        Shape::Rule | Shape::Any => {}
        Shape::OneOf(options) => {
            if !value.as_str().is_some_and(|s| options.contains(&s)) {
                wrong(errors, &crate::util::cat(&["one of ", &quote_all(options)]));
            }
        }
        Shape::Obj(fields) => {
            let Some(map) = value.as_object() else { return wrong(errors, "an object") };
            for (key, v) in map {
                let here = cat(&[at, "/", &pointer_token(key)]);
                match fields.iter().find(|f| f.0 == key) {
                    Some(field) => walk(v, &field.1, &here, errors),
                    None => {
                        errors.push(Error::new(
                            ErrorKind::Invalid,
                            here,
                            crate::util::cat(&["unknown field (known: ", &field_names(fields), ")"]),
                        ));
                    }
                }
            }
            for field in fields.iter().filter(|f| f.2 && !map.contains_key(f.0)) {
                errors.push(Error::new(
                    ErrorKind::Invalid,
                    cat(&[at, "/", field.0]),
                    "required field is missing",
                ));
            }
        }
        Shape::Map(inner) => {
            let Some(map) = value.as_object() else { return wrong(errors, "an object") };
            for (key, v) in map {
                let here = cat(&[at, "/", &pointer_token(key)]);
                if !is_identifier(key) {
                    errors.push(Error::new(
                        ErrorKind::Invalid,
                        here.clone(),
                        cat(&[&json::quoted(key), " is not an identifier ([A-Za-z0-9_.:-]{1,128})"]),
                    ));
                }
                walk(v, inner, &here, errors);
            }
        }
        Shape::List(inner) => {
            let Some(items) = value.as_array() else { return wrong(errors, "an array") };
            for (i, v) in items.iter().enumerate() {
                walk(v, inner, &cat(&[at, "/", &num(i as u64)]), errors);
            }
        }
        Shape::UInt => {
            if value.as_u64().is_none() {
                wrong(errors, "a whole number ≥ 0");
            }
        }
        Shape::Tuple(items, optional) => match value.as_array() {
            Some(got) if got.len() <= items.len() && got.len() + optional >= items.len() => {
                for (i, (v, item)) in got.iter().zip(items.iter()).enumerate() {
                    walk(v, item, &cat(&[at, "/", &num(i as u64)]), errors);
                }
            }
            _ => wrong(errors, &cat(&["an array of ", &num(items.len() as u64), " items"])),
        },
        Shape::Entries(inner) => {
            let Some(map) = value.as_object() else { return wrong(errors, "an object") };
            for (key, v) in map {
                walk(v, inner, &cat(&[at, "/", &pointer_token(key)]), errors);
            }
        }
        Shape::OneField(fields) => {
            let only = value.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next());
            match only.and_then(|(key, v)| fields.iter().find(|f| f.0 == key).map(|f| (key, v, f))) {
                Some((key, v, field)) => walk(v, &field.1, &cat(&[at, "/", &pointer_token(key)]), errors),
                None => wrong(errors, &describe(shape)),
            }
        }
        Shape::OrNull(inner) => {
            if !value.is_null() {
                walk(value, inner, at, errors);
            }
        }
        Shape::Either(a, b) => {
            let mut first = Vec::new();
            walk(value, a, at, &mut first);
            if !first.is_empty() {
                let mut second = Vec::new();
                walk(value, b, at, &mut second);
                if !second.is_empty() {
                    let described = cat(&[&describe(a), " or ", &describe(b)]);
                    errors.push(Error::new(ErrorKind::Invalid, at, cat(&["expected ", &described])));
                }
            }
        }
    }
}

/// A short description of a shape, for "expected … or …" messages.
fn describe(shape: &Shape) -> String {
    match shape {
        Shape::OneOf(options) => quote_all(options),
        Shape::Obj(fields) => crate::util::cat(&["an object with ", &field_names(fields)]),
        Shape::OneField(fields) => crate::util::cat(&["an object with one of ", &field_names(fields)]),
        _ => "another value".to_owned(),
    }
}

/// The names of `fields`, separated by commas.
fn field_names(fields: &[Field]) -> String {
    let mut names = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            names.push_str(", ");
        }
        names.push_str(f.0);
    }
    names
}

/// `"a", "b", "c"`.
fn quote_all(options: &[&str]) -> String {
    let mut quoted = String::new();
    for (i, o) in options.iter().enumerate() {
        if i > 0 {
            quoted.push_str(", ");
        }
        quoted.push('"');
        quoted.push_str(o);
        quoted.push('"');
    }
    quoted
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The JSON Schema (draft 2020-12) of the catalog, generated from the same description.
pub fn json_schema() -> Value {
    let mut schema = schema_of(&CATALOG);
    if let Value::Object(map) = &mut schema {
        map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
        map.insert("$id".into(), json!("https://rapport.dev/schema/catalog.schema.json"));
        map.insert("title".into(), json!("Rapport catalog"));
        map.insert(
            "description".into(),
            json!("Offers, audiences, placements and experiments, as contract §1 defines them."),
        );
    }
    schema
}

const ID_PATTERN: &str = "^[A-Za-z0-9_.:-]{1,128}$";

fn schema_of(shape: &Shape) -> Value {
    match shape {
        Shape::Str => json!({ "type": "string" }),
        Shape::Id => json!({ "type": "string", "pattern": ID_PATTERN }),
        Shape::Duration => json!({ "type": "string", "pattern": "^([1-9][0-9]{0,5}[smhd]|lifetime)$" }),
        Shape::Count => json!({ "type": "integer", "minimum": 0 }),
        Shape::Int => json!({ "type": "integer" }),
        Shape::Num => json!({ "type": "number" }),
        Shape::Bool => json!({ "type": "boolean" }),
        Shape::Rule => {
            json!({ "description": "A JsonLogic rule (jsonlogic.com) with Rapport's audience and ago operations." })
        }
        Shape::Any => json!({}),
        Shape::OneOf(options) => json!({ "enum": options }),
        Shape::Obj(fields) => {
            let properties: Map = fields.iter().map(|f| (f.0.to_owned(), schema_of(&f.1))).collect();
            let required: Vec<&str> = fields.iter().filter(|f| f.2).map(|f| f.0).collect();
            let mut obj: Map = [
                ("type".to_owned(), json!("object")),
                ("properties".to_owned(), Value::Object(properties)),
                ("additionalProperties".to_owned(), Value::Bool(false)),
            ]
            .into_iter()
            .collect();
            if !required.is_empty() {
                obj.insert("required".to_owned(), json!(required));
            }
            Value::Object(obj)
        }
        Shape::Map(inner) => json!({
            "type": "object",
            "propertyNames": { "pattern": ID_PATTERN },
            "additionalProperties": schema_of(inner)
        }),
        Shape::List(inner) => json!({ "type": "array", "items": schema_of(inner) }),
        Shape::Either(a, b) => json!({ "anyOf": [schema_of(a), schema_of(b)] }),
        Shape::UInt => json!({ "type": "integer", "minimum": 0 }),
        Shape::Tuple(items, optional) => {
            let items: Vec<Value> = items.iter().map(schema_of).collect();
            let (max, min) = (items.len(), items.len() - optional);
            json!({ "type": "array", "prefixItems": items, "minItems": min, "maxItems": max })
        }
        Shape::Entries(inner) => json!({ "type": "object", "additionalProperties": schema_of(inner) }),
        Shape::OneField(fields) => {
            let properties: Map = fields.iter().map(|f| (f.0.to_owned(), schema_of(&f.1))).collect();
            json!({ "type": "object", "properties": properties, "additionalProperties": false, "minProperties": 1, "maxProperties": 1 })
        }
        Shape::OrNull(inner) => json!({ "anyOf": [{ "type": "null" }, schema_of(inner)] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_error_is_reported_with_its_pointer() {
        let catalog = json!({
            "catalog": "x",
            "placment": {},
            "offers": [{ "id": "a b", "placements": "hero", "priority": "high" }, { "placements": [] }],
            "settings": { "fatigue": [{ "tags": ["promo"], "max": -1, "window": "7d" }] }
        });
        let (errors, blocking) = check(&catalog);
        assert!(blocking);
        let mut paths: Vec<String> = errors.into_iter().map(|e| e.path).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/offers/0/id",
                "/offers/0/placements",
                "/offers/0/priority",
                "/offers/1/id",
                "/placment",
                "/settings/fatigue/0/max"
            ]
        );
    }

    #[test]
    fn ranking_takes_a_name_or_a_formula() {
        let with = |ranking: Value| {
            check(&json!({ "catalog": "x", "placements": { "p": { "ranking": ranking } } })).0
        };
        assert!(with(json!("bandit")).is_empty());
        assert!(with(json!({ "formula": { "var": "offer.priority" } })).is_empty());
        assert_eq!(with(json!("random")).len(), 1);
    }
}
