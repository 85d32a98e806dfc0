//! Tests of `config` (kept apart so the module reads on its own).

use super::*;

#[test]
fn defaults_match_okhttp() {
    let c = Config::default();
    assert_eq!(c.connect_timeout(), Some(Duration::from_secs(10)));
    assert_eq!(c.read_timeout(), Some(Duration::from_secs(10)));
    assert_eq!(c.write_timeout(), Some(Duration::from_secs(10)));
    assert_eq!(c.call_timeout(), None);
    assert_eq!(c.max_idle_connections(), 5);
    assert_eq!(c.keep_alive(), Duration::from_secs(300));
    assert_eq!(c.tls_config().alpn_protocols, vec![b"http/1.1".to_vec()]);
    assert!(c.user_agent.as_deref().unwrap().starts_with(b"wayfarer/"));
}

#[test]
fn zero_timeouts_mean_none_and_bad_agents_fail() {
    let c = Config::builder()
        .read_timeout(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(c.read_timeout(), None);
    assert!(Config::builder().user_agent("a\nb").build().is_err());
}

#[test]
fn limits_default_to_real_server_sizes_and_are_kept_as_set() {
    let l = Config::default().limits();
    assert_eq!(l.max_head_bytes, 256 * 1024);
    assert_eq!(l.max_headers, None);
    assert_eq!(l.max_interim_responses, 16);
    assert_eq!(l.max_chunk_extension_bytes, 4096);
    assert_eq!(l.max_trailer_bytes, 256 * 1024);
    let l = Config::builder()
        .max_response_head_bytes(1 << 20)
        .max_response_headers(100_000)
        .max_interim_responses(0)
        .max_chunk_extension_bytes(10)
        .max_trailer_bytes(20)
        .build()
        .unwrap()
        .limits();
    assert_eq!(l.max_head_bytes, 1 << 20);
    assert_eq!(l.max_headers, Some(100_000), "no silent clamp");
    assert_eq!(l.max_interim_responses, 0);
    assert_eq!(l.max_chunk_extension_bytes, 10);
    assert_eq!(l.max_trailer_bytes, 20);
    let l = Config::builder()
        .max_response_headers(5)
        .max_response_headers(None)
        .build()
        .unwrap()
        .limits();
    assert_eq!(l.max_headers, None);
}
