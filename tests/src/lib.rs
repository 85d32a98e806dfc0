//! wayfarer integration test support.
