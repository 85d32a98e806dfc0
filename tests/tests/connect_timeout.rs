//! The connect timeout fires on every runtime against an address whose connects hang (a listener
//! with a full accept queue), and the call fails instead of connecting again.
//!
//! Each client also has a call timeout far beyond the connect timeout, as a guard: a client that
//! re-armed its connect deadline instead of expiring it would fail with the call timeout, and the
//! assertion on the timeout's kind tells the two apart without measuring time.

use std::time::Duration;

use wayfarer_core::{Config, ErrorKind, Phase, Request, TimeoutKind};
use wayfarer_tests::unreachable::Unanswered;

const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

fn config() -> Config {
    Config::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .call_timeout(Duration::from_secs(20))
        .build()
        .expect("config")
}

fn assert_connect_timeout(result: Result<u16, wayfarer_core::Error>) {
    let e = result.expect_err("the connect must not succeed");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Connect), "{e}");
    assert_eq!(e.phase(), Some(Phase::Connect), "{e}");
    assert!(e.to_string().contains("connect timed out"), "{e}");
}

#[test]
fn connect_timeout_fires_blocking() {
    let target = Unanswered::start();
    let client = wayfarer_blocking::Client::from(config());
    let result = client
        .new_call(Request::get(target.url("/")).build().unwrap())
        .execute()
        .map(|r| r.status().as_u16());
    assert_connect_timeout(result);
}

/// One GET on an async client (tokio or smol), as its status or its error.
async fn get<N: wayfarer_async::Net>(
    client: wayfarer_async::Client<N>,
    url: String,
) -> Result<u16, wayfarer_core::Error> {
    let request = Request::get(url).build()?;
    Ok(client.new_call(request).execute().await?.status().as_u16())
}

#[test]
fn connect_timeout_fires_tokio() {
    let target = Unanswered::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = wayfarer_tokio::Client::from(config());
    assert_connect_timeout(rt.block_on(get(client, target.url("/"))));
}

#[test]
fn connect_timeout_fires_smol() {
    let target = Unanswered::start();
    let client = wayfarer_smol::Client::from(config());
    assert_connect_timeout(smol::block_on(get(client, target.url("/"))));
}
