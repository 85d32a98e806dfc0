//! wayfarer integration test support.

pub mod vector;
