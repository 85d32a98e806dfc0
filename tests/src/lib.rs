//! wayfarer integration test support.

pub mod vector;
pub mod wire;
