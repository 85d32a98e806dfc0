//! The async driver shared by wayfarer's tokio and smol clients.
//!
//! A call's future drives the sans-IO core (`wayfarer-core`) inside the task that awaits it:
//! no connection task is spawned and nothing is handed across threads per request; concurrent
//! calls share only the client's connection pool and dispatcher. One background task per pool,
//! alive only while the pool holds connections, closes them when their keep-alive ends. Everything here is generic over [`Net`], the
//! handful of operations a runtime provides (socket reads and writes, resolve, connect, a timer
//! and a clock); `wayfarer-tokio` and `wayfarer-smol` implement it and name the types.
//!
//! This crate depends on no runtime: with the `tokio` feature it only implements
//! `tokio::io::AsyncRead` for [`Body`].

mod body;
mod call;
mod chunk_buffer;
mod cleanup;
mod client;
mod connect;
mod dispatcher;
mod driver;
mod interceptor;
mod net;
mod proxy_env;
mod timer;
mod upgraded;

pub use body::{Body, BytesFuture, JsonFuture, TextFuture};
pub use call::Call;
pub use client::{Client, platform_root_certificates};
pub use connect::start_connect;
pub use dispatcher::Dispatcher;
pub use interceptor::{Chain, FnInterceptor, interceptor};
pub use net::{BoxFuture, Net};
pub use proxy_env::env_proxy_selector;
pub use upgraded::Upgraded;
