//! JSON in and out, by hand, in one place: the core's formats are small and fixed, and one
//! hand-written path is much smaller in Wasm than serde's derived code (monomorphised once per
//! type and per (de)serializer).
//!
//! Text is parsed into a [`Value`] by [`parse`] (the only deserialization there is, and not
//! serde's: see `parse.rs`); typed values are read from it by hand, after `catalog::shape` has
//! checked its shape. Typed values write their JSON text directly with the writer functions
//! here, exactly as serde's derive wrote it (fields in declaration order, compact); where a
//! `Value` is wanted it is made from that text. [`Text`] lets shells keep using serde on the
//! core's types: it serializes such text keeping its keys' order.

pub(crate) mod decimal;
mod parse;
mod value;

pub use parse::{parse, SyntaxError};
#[doc(hidden)]
pub use serde_json as __serde_json;
pub(crate) use value::{array_items, object_entries};
pub use value::{Index, Map, Number, Value};

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

// Writing. Every writer appends to `out` and puts the comma itself: one goes before anything
// that follows a value, never after `{`, `[` or a key's `:`. So an object is `open(out, '{')`,
// then `key` and a value per field, then `out.push('}')`.

fn sep(out: &mut String) {
    if !matches!(out.as_bytes().last(), None | Some(b'{' | b'[' | b':')) {
        out.push(',');
    }
}

/// Opens an object (`'{'`) or an array (`'['`); close it with `out.push('}')` or `']'`.
pub fn open(out: &mut String, bracket: char) {
    sep(out);
    out.push(bracket);
}

/// An object's key.
pub fn key(out: &mut String, key: &str) {
    sep(out);
    write_str(out, key);
    out.push(':');
}

/// An integer.
pub fn int(out: &mut String, n: i64) {
    sep(out);
    crate::util::push_int(out, n);
}

/// A whole number ≥ 0.
pub fn uint(out: &mut String, n: u64) {
    sep(out);
    crate::util::push_uint(out, n);
}

/// A float (`null` when not finite), as serde_json writes an `f64`.
pub fn float(out: &mut String, f: f64) {
    sep(out);
    match Number::from_f64(f) {
        Some(n) => write_number(out, &n),
        None => out.push_str("null"),
    }
}

/// `true` or `false`.
pub fn boolean(out: &mut String, b: bool) {
    sep(out);
    out.push_str(if b { "true" } else { "false" });
}

/// `null`.
pub fn null(out: &mut String) {
    sep(out);
    out.push_str("null");
}

/// A string.
pub fn string(out: &mut String, s: &str) {
    sep(out);
    write_str(out, s);
}

/// A value.
pub fn value(out: &mut String, v: &Value) {
    sep(out);
    write(out, v);
}

/// `[ts, s]`, the fragment's stamped strings.
pub fn stamped(out: &mut String, ts: i64, s: &str) {
    open(out, '[');
    int(out, ts);
    string(out, s);
    out.push(']');
}

/// An array of strings.
pub fn strings(out: &mut String, items: &[String]) {
    open(out, '[');
    for s in items {
        string(out, s);
    }
    out.push(']');
}

/// The strings of an array of strings; `None` when `v` is not one (the reading of [`strings`]).
pub(crate) fn read_strings(v: &Value) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for s in v.as_array()? {
        out.push(s.as_str()?.to_owned());
    }
    Some(out)
}

/// An object of values.
pub fn object(out: &mut String, map: &Map) {
    sep(out);
    write_object(out, map);
}

/// Text written by a writer function.
pub fn written(write: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    write(&mut out);
    out
}

/// JSON text written by the core, serialized with its keys in their order (a `Value` would sort
/// them): `Serialize` for the core's types goes through it.
pub struct Text(pub String);

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Raw(&self.0).serialize(serializer)
    }
}

struct Raw<'a>(&'a str);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.0;
        match text.as_bytes().first() {
            Some(b'{') => {
                let members = members(text);
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for member in members {
                    let colon = string_end(member);
                    let key = match parse(&member[..colon]).map_err(S::Error::custom)? {
                        Value::String(key) => key,
                        _ => return Err(S::Error::custom("an object key is not a string")),
                    };
                    map.serialize_entry(&key, &Raw(&member[colon + 1..]))?;
                }
                map.end()
            }
            Some(b'[') => {
                let members = members(text);
                let mut seq = serializer.serialize_seq(Some(members.len()))?;
                for member in members {
                    seq.serialize_element(&Raw(member))?;
                }
                seq.end()
            }
            // Scalars as the parser reads them (numbers exactly), so a value goes through text
            // unchanged.
            _ => parse(text).map_err(S::Error::custom)?.serialize(serializer),
        }
    }
}

/// The members of compact JSON text `{…}` or `[…]`, split at its top-level commas.
fn members(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut in_string, mut escaped) = (0usize, 1, false, false);
    for (i, c) in text.bytes().enumerate() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && i > start {
                    out.push(&text[start..i]);
                }
            }
            b',' if depth == 1 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// Where the JSON string at the start of `text` ends.
fn string_end(text: &str) -> usize {
    let mut escaped = false;
    for (i, c) in text.bytes().enumerate().skip(1) {
        match c {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return i + 1,
            _ => {}
        }
    }
    text.len()
}

/// `Serialize` through a type's `to_json` (for shells that use serde on the core's types).
macro_rules! serialize_as_text {
    ($($t:ty),*) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                crate::json::Text(self.to_json()).serialize(serializer)
            }
        }
    )*};
}
pub(crate) use serialize_as_text;

/// The compact JSON text of a value, exactly as serde_json writes it.
pub fn text(v: &Value) -> String {
    written(|out| write(out, v))
}

/// Appends the compact JSON text of a value, exactly as serde_json writes it.
pub fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for item in items {
                value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// The compact JSON text of an object.
pub fn object_text(map: &Map) -> String {
    written(|out| write_object(out, map))
}

fn write_object(out: &mut String, map: &Map) {
    out.push('{');
    for (k, item) in map {
        key(out, k);
        value(out, item);
    }
    out.push('}');
}

fn write_number(out: &mut String, n: &Number) {
    n.write_to(out);
}

/// `s` as a JSON string, for messages (`format!("{s:?}")` would bring Rust's debug formatting
/// and its Unicode tables into the SDK).
pub fn quoted(s: &str) -> String {
    written(|out| write_str(out, s))
}

/// Appends a JSON string: quotes, backslashes and control characters escaped as serde_json does.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let value = json!({
            "s": "quote \" backslash \\ slash / nl \n cr \r tab \t bs \u{8} ff \u{c} nul \u{0} us \u{1f} del \u{7f} é 😀",
            "n": [0, -1, 18446744073709551615u64, -9223372036854775808i64, 0.5, 50.0, 1e300, -2.5e-8, 0.1],
            "o": {"b": null, "a": [true, false, {}, []]},
        });
        assert_eq!(text(&value), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn writers_put_commas_and_text_keeps_key_order() {
        let out = written(|out| {
            open(out, '{');
            key(out, "z");
            float(out, f64::NAN);
            key(out, "a\"b");
            open(out, '[');
            int(out, -3);
            uint(out, 7);
            float(out, 2.0);
            open(out, '{');
            out.push('}');
            strings(out, &["x,]".to_owned()]);
            out.push(']');
            key(out, "m");
            value(out, &json!({"k": "{[,\\\""}));
            out.push('}');
        });
        assert_eq!(out, r#"{"z":null,"a\"b":[-3,7,2.0,{},["x,]"]],"m":{"k":"{[,\\\""}}"#);
        assert_eq!(serde_json::to_string(&Text(out.clone())).unwrap(), out);
        let sorted: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(Value::from(serde_json::to_value(Text(out)).unwrap()), sorted);
    }
}
