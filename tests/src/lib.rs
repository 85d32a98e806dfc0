//! wayfarer integration test support.

pub mod certs;
pub mod nginx;
