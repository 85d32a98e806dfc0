//! wayfarer integration test support: the scripted origin, the vector format and its checker,
//! test certificates and the nginx harness.

pub mod certs;
pub mod holding;
pub mod nginx;
pub mod origin;
pub mod proxies;
pub mod run;
pub mod sim;
pub mod soak;
pub mod unreachable;
pub mod vector;
pub mod wire;

/// The README's examples, compiled (and the runnable ones run) as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
