//! A response, and the future that makes one, stay small: the call's driver (a couple of KiB)
//! lives in a box the body owns, so moving a response, or holding many futures at once (a
//! `join_all` of a thousand calls), costs a few hundred bytes each, not the driver's size.

/// The most bytes a response or a call's future may take, inline.
const MAX: usize = 512;

#[track_caller]
fn assert_small(runtime: &str, sizes: &[(&str, usize)]) {
    for (what, size) in sizes {
        assert!(
            *size <= MAX,
            "a {runtime} {what} takes {size} bytes, over {MAX}"
        );
    }
}

/// The inline sizes of an async runtime's `execute()` future and `Response`.
macro_rules! async_sizes {
    ($runtime:ident) => {{
        let client = $runtime::Client::new();
        let request = $runtime::Request::get("http://127.0.0.1:1/").build();
        let future = client.new_call(request.expect("request")).execute();
        [
            ("execute() future", std::mem::size_of_val(&future)),
            ("Response", std::mem::size_of::<$runtime::Response>()),
        ]
    }};
}

#[test]
fn an_async_response_and_its_future_stay_small() {
    assert_small("tokio", &async_sizes!(wayfarer_tokio));
    assert_small("smol", &async_sizes!(wayfarer_smol));
}

#[test]
fn a_blocking_response_stays_small() {
    let size = std::mem::size_of::<wayfarer_blocking::Response>();
    assert_small("blocking", &[("Response", size)]);
}
