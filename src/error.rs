//! One error type for the whole core. Its `kind` is a stable tag that callers (the CLI, the
//! worker's HTTP answers, the browser SDK's `Error.name`) can match on; `path` is a JSON pointer
//! into the input that was wrong, so a message always names the field.

use crate::json;
use std::fmt;

/// Stable error kinds. Their serialised names never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is not JSON, or not JSON of the expected shape.
    Parse,
    /// The JSON is well formed but breaks a rule of the contract (bad id, dangling reference…).
    Invalid,
    /// A rule could not be compiled (unknown operator, wrong arity, unknown name, cycle).
    Rule,
    /// A request named something that does not exist (an unknown placement).
    NotFound,
    /// An input was larger than the contract allows.
    TooLarge,
}

impl ErrorKind {
    /// The stable tag, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Rule => "rule",
            ErrorKind::NotFound => "not_found",
            ErrorKind::TooLarge => "too_large",
        }
    }
}

/// An error with a stable kind, a message for people and the JSON pointer of the bad field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Serialised as `type`.
    pub kind: ErrorKind,
    pub message: String,
    pub path: String,
}

impl Error {
    /// An error at `path` (a JSON pointer, `""` for the whole input).
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), path: path.into() }
    }

    /// Appends `{"type", "message", "path"}`.
    pub fn write_json(&self, out: &mut String) {
        json::open(out, '{');
        json::key(out, "type");
        json::string(out, self.kind.as_str());
        json::key(out, "message");
        json::string(out, &self.message);
        json::key(out, "path");
        json::string(out, &self.path);
        out.push('}');
    }

    /// `{"type", "message", "path"}`.
    pub fn to_json(&self) -> String {
        json::written(|out| self.write_json(out))
    }

    /// The same error, found inside the value at `prefix`.
    pub fn under(mut self, prefix: &str) -> Self {
        self.path.insert_str(0, prefix);
        self
    }

    /// `pointer: message`, the line format of `rapport validate`.
    pub fn text(&self) -> String {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        crate::util::cat(&[path, ": ", &self.message])
    }
}

/// As [`Error::text`] writes it.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for Error {}

json::serialize_as_text!(Error);

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Escapes one JSON-pointer reference token (RFC 6901).
pub fn pointer_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}
