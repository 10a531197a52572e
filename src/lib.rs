//! Rapport's core: catalog compilation, JsonLogic rules, profiles and offer decisions.
//!
//! The core is pure. It does no I/O, never reads a clock and has no randomness of its own:
//! `now` and seeds are arguments. The CLI (`src/bin/rapport.rs`), the edge worker (`edge/`) and
//! the browser SDK (`web-sdk/`) are thin shells around the facade re-exported here.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod catalog;
pub mod context;
pub mod decide;
pub mod duration;
pub mod error;
pub mod hash;
pub mod json;
pub mod map;
pub mod profile;
pub mod rules;
pub mod simulate;
mod util;
pub mod visitor;

pub use catalog::Bundle;
pub use decide::{decide, Decision, Request};
pub use error::{Error, ErrorKind};
pub use profile::Profile;
