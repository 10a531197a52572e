//! The catalog a marketer writes (contract §1) and the bundle it compiles to.
//!
//! `model` is the authored JSON format (read by hand once `shape` has checked it, unknown fields
//! rejected, and written back canonically for the content hash); `bundle` validates it,
//! compiles every rule once and gives the decision engine indexed, ready-to-run offers.

mod bundle;
mod model;
pub mod shape;

pub use bundle::{
    Bundle, CompiledExperiment, CompiledOffer, CompiledPlacement, CompiledSuppression, Ranking,
};
pub use model::*;
