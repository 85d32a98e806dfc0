//! Test vectors: transcripts of one client/origin conversation, replayed by every runner.
//!
//! [`model`] is the data, [`mod@parse`] reads `tests/vectors/**/*.vec` into it, and [`mod@check`] compares
//! what a runner recorded with what the vector expects. The format is specified in
//! `tests/vectors/README.md`.

pub mod cache;
pub mod check;
pub mod model;
pub mod parse;

pub use check::check;
pub use model::*;
pub use parse::{ParseError, load, parse};
