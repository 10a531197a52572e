//! One error type for the whole core. Its `kind` is a stable tag that callers (the CLI, the
//! worker's HTTP answers, the browser SDK's `Error.name`) can match on; `path` is a JSON pointer
//! into the input that was wrong, so a message always names the field.

use serde::Serialize;
use std::fmt;

/// Stable error kinds. Their serialised names never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    pub message: String,
    pub path: String,
}

impl Error {
    /// An error at `path` (a JSON pointer, `""` for the whole input).
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), path: path.into() }
    }

    /// The same error, found inside the value at `prefix`.
    pub fn under(mut self, prefix: &str) -> Self {
        self.path = format!("{prefix}{}", self.path);
        self
    }
}

impl fmt::Display for Error {
    /// `pointer: message`, the line format of `rapport validate`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "/: {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// Escapes one JSON-pointer reference token (RFC 6901).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
