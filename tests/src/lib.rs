//! wayfarer integration test support.

pub mod certs;
