//! A response, and the future that makes one, stay small: the call's driver (a couple of KiB)
//! lives in a box the body owns, so moving a response, or holding many futures at once (a
//! `join_all` of a thousand calls), costs a few hundred bytes each, not the driver's size.

/// The most bytes a response or a call's future may take, inline.
const MAX: usize = 512;

#[test]
fn a_tokio_response_and_its_future_stay_small() {
    let client = wayfarer_tokio::Client::new();
    let request = wayfarer_tokio::Request::get("http://127.0.0.1:1/")
        .build()
        .expect("request");
    let future = client.new_call(request).execute();
    let sizes = [
        ("execute() future", std::mem::size_of_val(&future)),
        ("Response", std::mem::size_of::<wayfarer_tokio::Response>()),
    ];
    for (what, size) in sizes {
        assert!(size <= MAX, "a tokio {what} takes {size} bytes, over {MAX}");
    }
}

#[test]
fn a_smol_response_and_its_future_stay_small() {
    let client = wayfarer_smol::Client::new();
    let request = wayfarer_smol::Request::get("http://127.0.0.1:1/")
        .build()
        .expect("request");
    let future = client.new_call(request).execute();
    let sizes = [
        ("execute() future", std::mem::size_of_val(&future)),
        ("Response", std::mem::size_of::<wayfarer_smol::Response>()),
    ];
    for (what, size) in sizes {
        assert!(size <= MAX, "a smol {what} takes {size} bytes, over {MAX}");
    }
}

#[test]
fn a_blocking_response_stays_small() {
    let size = std::mem::size_of::<wayfarer_blocking::Response>();
    assert!(
        size <= MAX,
        "a blocking Response takes {size} bytes, over {MAX}"
    );
}
