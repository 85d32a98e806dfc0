//! wayfarer integration test support.

pub mod origin;
pub mod vector;
pub mod wire;
