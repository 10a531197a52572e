//! Rapport's core: catalog compilation, JsonLogic rules, profiles and offer decisions.
//!
//! The core is pure. It does no I/O, never reads a clock and has no randomness of its own:
//! `now` and seeds are arguments. The CLI (`src/bin/rapport.rs`), the edge worker (`edge/`) and
//! the browser SDK (`web-sdk/`) are thin shells around the facade re-exported here.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

// The core writes its messages with `util::cat` and `util::num`, never `format!` or `write!`:
// with neither, `core::fmt` leaves the browser SDK (0.9 KB gzip of its Wasm). These stand-ins,
// defined before the modules, make either one a compile error that says so (tests may use them).
#[cfg(not(test))]
#[allow(unused_macros)]
macro_rules! format {
    ($($t:tt)*) => {
        compile_error!(
            "the core builds messages with util::cat and util::num: core::fmt costs the SDK 0.9 KB"
        )
    };
}
#[cfg(not(test))]
#[allow(unused_macros)]
macro_rules! write {
    ($($t:tt)*) => {
        compile_error!(
            "the core writes with String::push_str and util::push_uint: core::fmt costs the SDK 0.9 KB"
        )
    };
}

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
pub mod util;
pub mod visitor;

pub use catalog::Bundle;
pub use decide::{decide, Decision, Request};
pub use error::{Error, ErrorKind};
pub use profile::Profile;
