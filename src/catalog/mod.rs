//! The catalog a marketer writes (contract §1) and the bundle it compiles to.
//!
//! `model` is the authored JSON format (serde, unknown fields rejected); `bundle` validates it,
//! compiles every rule once and gives the decision engine indexed, ready-to-run offers.

mod bundle;
mod model;
pub mod shape;

pub use bundle::{
    Bundle, CompiledExperiment, CompiledOffer, CompiledPlacement, CompiledSuppression, Ranking,
};
pub use model::*;
