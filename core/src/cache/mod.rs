//! HTTP caching (RFC 9111), after OkHttp's `Cache`.

pub mod store;
