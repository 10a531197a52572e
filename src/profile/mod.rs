//! The visitor's profile: events, streaming computed attributes, identity and consent, held as
//! per-replica fragments that merge without a central server (contract §3, §4).
//!
//! `event` validates events; `aggregate` keeps windowed aggregates in bounded memory; `fragment`
//! applies events and merges fragments (every field a CRDT); `schema` is what the catalog tells
//! a profile (computed definitions, caps, fatigue, consent and identity settings); `view` is
//! what rules and people see.

pub mod aggregate;
pub mod event;
mod fragment;
mod schema;
mod view;

pub use event::{parse_batch, Event, Rejected, MAX_BATCH};
pub use fragment::{Consent, Fragment, Identity, Outcome, LATE, MAX_FRAGMENT_BYTES};
pub use schema::{ComputedDef, Filter, Schema};
pub use view::View;

/// A profile is a fragment: the merge of every fragment known for one person.
pub type Profile = Fragment;
