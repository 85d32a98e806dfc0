//! User interceptors on every runtime, against the queue-mode origin: the closure form of each
//! runtime (`wayfarer_blocking::interceptor`, `wayfarer_tokio::interceptor`,
//! `wayfarer_smol::interceptor`) and the sans-IO `wayfarer_core::Interceptor`.
//!
//! Application interceptors: one that adds a header and proceeds, one that proceeds twice (a
//! retry of its own), one that answers without proceeding, one that replaces the response body.
//! Network interceptors: one that sees the bridge's fields and every redirect hop, and ones that
//! break the network rules (proceeding twice, changing the host), which fail the call with an
//! error naming the interceptor. The async scenarios are written once, generic over
//! `wayfarer_async::Net`, and run on tokio and on smol.

use std::sync::{Arc, Mutex};

use wayfarer_core::{
    Error, ErrorKind, Interceptor, InterceptorContext, Request, RequestAction, Response,
    ResponseAction,
};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::vector::RecordedRequest;

fn ok(body: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn status(code: u16, body: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 {code} Whatever\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn redirect(location: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 5\r\n\r\nmoved"
    ))
}

/// The value of a request header as the origin read it.
fn header(request: &RecordedRequest, name: &str) -> Option<String> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// What a network interceptor saw of one hop: the path, the fields the bridge adds, and the
/// status that came back.
#[derive(Debug, Clone, PartialEq)]
struct Hop {
    path: String,
    host: Option<String>,
    connection: Option<String>,
    accept_encoding: Option<String>,
    user_agent: Option<String>,
    status: u16,
}

fn hop(request: &Request, status: u16) -> Hop {
    Hop {
        path: request.url().path().to_owned(),
        host: request.header("host").map(str::to_owned),
        connection: request.header("connection").map(str::to_owned),
        accept_encoding: request.header("accept-encoding").map(str::to_owned),
        user_agent: request.header("user-agent").map(str::to_owned),
        status,
    }
}

/// The hops a redirect from `/a` to `/b` shows a network interceptor.
fn expected_hops(origin: &Origin) -> Vec<Hop> {
    ["/a", "/b"]
        .into_iter()
        .zip([302, 200])
        .map(|(path, status)| Hop {
            path: path.to_owned(),
            host: Some(origin.authority()),
            connection: Some("Keep-Alive".to_owned()),
            accept_encoding: Some("gzip".to_owned()),
            user_agent: Some("interceptor-test/1".to_owned()),
            status,
        })
        .collect()
}

/// A URL for the origin under another host name: same server and port, another origin.
fn other_host_url(origin: &Origin, path: &str) -> String {
    format!("http://localhost:{}{path}", origin.addr().port())
}

/// A URL on a port nothing listens on (bound, then closed): connecting is refused.
fn refused_url(path: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}{path}")
}

/// gzip.compress(b"hello, gzip", mtime=0) from Python.
const HELLO_GZIP: &[u8] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\xd7\x51\x48\xaf\xca\x2c\x00\x00\x4a\x9b\xb1\x5c\x0b\x00\x00\x00";

fn gzipped() -> Reply {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        HELLO_GZIP.len()
    )
    .into_bytes();
    bytes.extend_from_slice(HELLO_GZIP);
    Reply::new(bytes)
}

/// The `Content-Encoding` and `Content-Length` a response head carries.
fn encoding_fields<B>(response: &Response<B>) -> (Option<String>, Option<String>) {
    (
        response.header("content-encoding").map(str::to_owned),
        response.header("content-length").map(str::to_owned),
    )
}

fn assert_network_rule(error: &Error, name: &str, rule: &str) {
    let message = error.to_string();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{message}");
    assert!(
        message.contains(&format!("network interceptor {name} {rule}")),
        "{message}"
    );
}

/// The name the core gives a closure interceptor in its errors.
const CLOSURE: &str = "closure interceptor";

// ------------------------------------------------------------------ sans-IO interceptors

/// A sans-IO application interceptor: numbers each attempt in a header, retries a 503 once on
/// its own, and marks the response it returns.
struct Attempts;

impl Interceptor for Attempts {
    fn on_request(&self, cx: &mut InterceptorContext<'_>, mut request: Request) -> RequestAction {
        *cx.state::<u32>() += 1;
        match request.headers_mut().set("X-Attempt", "1") {
            Ok(()) => RequestAction::Proceed(request),
            Err(e) => RequestAction::Fail(e),
        }
    }

    fn on_response(
        &self,
        cx: &mut InterceptorContext<'_>,
        result: Result<Response<()>, Error>,
    ) -> ResponseAction {
        let mut response = match result {
            Ok(response) => response,
            Err(e) => return ResponseAction::Fail(e),
        };
        if response.status().as_u16() == 503 && cx.proceeded() == 1 {
            let mut again = response.request().clone();
            let attempt = (cx.proceeded() + 1).to_string();
            return match again.headers_mut().set("X-Attempt", &attempt) {
                Ok(()) => ResponseAction::Proceed(again),
                Err(e) => ResponseAction::Fail(e),
            };
        }
        let calls = cx.state::<u32>().to_string();
        match response.headers_mut().set("X-Intercepted", &calls) {
            Ok(()) => ResponseAction::Return(response),
            Err(e) => ResponseAction::Fail(e),
        }
    }

    fn name(&self) -> &str {
        "Attempts"
    }
}

/// A sans-IO network interceptor that breaks the rule of proceeding once: it proceeds again
/// with the response's request.
struct Twice;

impl Interceptor for Twice {
    fn on_response(
        &self,
        _cx: &mut InterceptorContext<'_>,
        result: Result<Response<()>, Error>,
    ) -> ResponseAction {
        match result {
            Ok(response) => ResponseAction::Proceed(response.request().clone()),
            Err(e) => ResponseAction::Fail(e),
        }
    }

    fn name(&self) -> &str {
        "Twice"
    }
}

/// What the origin must have seen for [`Attempts`]: a 503, then the retry on the same
/// connection.
fn check_attempts(origin: &Origin) {
    let first = origin.take_request();
    let second = origin.take_request();
    assert_eq!(header(&first, "x-attempt").as_deref(), Some("1"));
    assert_eq!(header(&second, "x-attempt").as_deref(), Some("2"));
    assert_eq!(second.line, "GET /a HTTP/1.1");
    assert_eq!(origin.connection_count(), 1, "the 503's body was discarded");
}

// ------------------------------------------------------------------ blocking

mod blocking {
    use super::*;
    use wayfarer_blocking::{Body, Chain, Client, interceptor};

    fn builder() -> wayfarer_core::ClientBuilder<Client> {
        Client::builder().user_agent("interceptor-test/1")
    }

    fn get(client: &Client, url: &str) -> Result<wayfarer_blocking::Response, Error> {
        client
            .new_call(Request::get(url).build().expect("request"))
            .execute()
    }

    #[test]
    fn an_application_interceptor_adds_a_header_and_proceeds() {
        let origin = Origin::start();
        origin.enqueue(ok("ok"));
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let mut request = chain.request().clone();
                request.headers_mut().set("X-Added", "yes")?;
                chain.proceed(request)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.text().expect("body"), "ok");
        assert_eq!(
            header(&origin.take_request(), "x-added").as_deref(),
            Some("yes")
        );
    }

    #[test]
    fn an_application_interceptor_proceeds_twice() {
        let origin = Origin::start();
        origin.enqueue(status(500, "broken"));
        origin.enqueue(ok("fine"));
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let first = chain.proceed(request.clone())?;
                if first.status().as_u16() != 500 {
                    return Ok(first);
                }
                chain.proceed(request)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.text().expect("body"), "fine");
        assert_eq!(origin.request_count(), 2);
        assert_eq!(origin.connection_count(), 1, "the 500's body was drained");
    }

    #[test]
    fn an_application_interceptor_answers_without_proceeding() {
        let origin = Origin::start();
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let mut head = Response::new(
                    wayfarer_core::StatusCode::NON_AUTHORITATIVE_INFORMATION,
                    chain.request().clone(),
                );
                head.headers_mut().set("X-Made-Up", "1")?;
                Ok(head.with_body(Body::from_request_body("from the interceptor".into())))
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.status().as_u16(), 203);
        assert_eq!(response.header("x-made-up"), Some("1"));
        assert_eq!(response.text().expect("body"), "from the interceptor");
        assert_eq!(origin.connection_count(), 0);
        assert_eq!(origin.request_count(), 0);
    }

    #[test]
    fn an_application_interceptor_replaces_the_body() {
        let origin = Origin::start();
        origin.enqueue(ok("original"));
        origin.enqueue(ok("second"));
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let response = chain.proceed(request)?;
                Ok(response.map_body(|_| Body::from_request_body("replaced".into())))
            }))
            .build()
            .expect("client");
        for _ in 0..2 {
            let response = get(&client, &origin.url("/a")).expect("call");
            assert_eq!(response.text().expect("body"), "replaced");
        }
        assert_eq!(origin.request_count(), 2);
        assert_eq!(
            origin.connection_count(),
            1,
            "the replaced body was discarded and its connection reused"
        );
    }

    #[test]
    fn an_application_interceptor_reads_the_body_and_serves_it_again() {
        let origin = Origin::start();
        origin.enqueue(gzipped());
        origin.enqueue(ok("next"));
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let (head, body) = chain.proceed(request)?.into_parts();
                let text = body.text()?;
                Ok(head.with_body(Body::from_request_body(text.to_uppercase().into())))
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.text().expect("body"), "HELLO, GZIP");
        let response = get(&client, &origin.url("/b")).expect("call");
        assert_eq!(response.text().expect("body"), "NEXT");
        assert_eq!(
            origin.connection_count(),
            1,
            "a body read to its end frees its connection"
        );
    }

    #[test]
    fn an_application_interceptor_reads_a_body_then_proceeds_again() {
        let origin = Origin::start();
        origin.enqueue(ok("try again"));
        origin.enqueue(ok("done"));
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let first = chain.proceed(request.clone())?;
                if first.text()? == "try again" {
                    return chain.proceed(request);
                }
                Err(Error::invalid_input("the origin did not ask to try again"))
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.text().expect("body"), "done");
        assert_eq!(origin.request_count(), 2);
        assert_eq!(origin.connection_count(), 1);
    }

    #[test]
    fn an_application_interceptor_reads_part_of_the_body_and_the_caller_the_rest() {
        let origin = Origin::start();
        origin.enqueue(ok("header:payload"));
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let mut response = chain.proceed(request)?;
                let mut prefix = [0u8; 7];
                let mut read = 0;
                while read < prefix.len() {
                    match response.body_mut().read_bytes(&mut prefix[read..])? {
                        0 => break,
                        n => read += n,
                    }
                }
                assert_eq!(&prefix[..read], b"header:");
                Ok(response)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.text().expect("body"), "payload");
    }

    #[test]
    fn a_network_interceptor_sees_the_bridge_and_every_redirect_hop() {
        let origin = Origin::start();
        origin.enqueue(redirect("/b"));
        origin.enqueue(ok("b"));
        let hops = Arc::new(Mutex::new(Vec::new()));
        let seen = hops.clone();
        let app_calls = Arc::new(Mutex::new(0));
        let counted = app_calls.clone();
        let client = builder()
            .interceptor(interceptor(move |chain: &mut Chain<'_>| {
                *counted.lock().expect("lock") += 1;
                let request = chain.request().clone();
                assert_eq!(request.header("host"), None, "above the bridge");
                chain.proceed(request)
            }))
            .network_interceptor(interceptor(move |chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let response = chain.proceed(request.clone())?;
                seen.lock()
                    .expect("lock")
                    .push(hop(&request, response.status().as_u16()));
                Ok(response)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.prior_count(), 1);
        assert_eq!(response.text().expect("body"), "b");
        assert_eq!(*hops.lock().expect("lock"), expected_hops(&origin));
        assert_eq!(*app_calls.lock().expect("lock"), 1);
    }

    #[test]
    fn a_network_interceptor_that_proceeds_twice_fails_the_call() {
        let origin = Origin::start();
        origin.enqueue(ok("one"));
        origin.enqueue(ok("two"));
        let client = builder()
            .network_interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                chain.proceed(request.clone())?;
                chain.proceed(request)
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a")).expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must call proceed() exactly once");
        assert_eq!(origin.request_count(), 1, "the second proceed sent nothing");
    }

    #[test]
    fn a_network_interceptor_that_changes_the_host_fails_the_call() {
        let origin = Origin::start();
        let other = other_host_url(&origin, "/elsewhere");
        let client = builder()
            .network_interceptor(interceptor(move |chain: &mut Chain<'_>| {
                let request = Request::get(other.as_str()).build()?;
                chain.proceed(request)
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a")).expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must retain the same host and port");
        assert_eq!(origin.request_count(), 0);
    }

    #[test]
    fn an_application_interceptor_recovers_from_a_failure_by_proceeding_again() {
        let origin = Origin::start();
        origin.enqueue(ok("recovered"));
        let good = origin.url("/a");
        let client = builder()
            .interceptor(interceptor(move |chain: &mut Chain<'_>| {
                let dead = Request::get(refused_url("/dead").as_str()).build()?;
                let error = chain.proceed(dead).expect_err("nothing listens there");
                assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
                chain.proceed(Request::get(good.as_str()).build()?)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.text().expect("body"), "recovered");
        assert_eq!(origin.request_count(), 1);
    }

    #[test]
    fn a_network_interceptor_that_answers_without_proceeding_fails_the_call() {
        let origin = Origin::start();
        let client = builder()
            .network_interceptor(interceptor(|chain: &mut Chain<'_>| {
                let head = Response::new(wayfarer_core::StatusCode::OK, chain.request().clone());
                Ok(head.with_body(Body::from_request_body("made up".into())))
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a")).expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must call proceed() exactly once");
        assert_eq!(origin.request_count(), 0);
    }

    #[test]
    fn a_network_interceptor_that_replaces_the_body_fails_the_call() {
        let origin = Origin::start();
        origin.enqueue(ok("real"));
        let client = builder()
            .network_interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let response = chain.proceed(request)?;
                Ok(response.map_body(|_| Body::from_request_body("fake".into())))
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a")).expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must not replace the response body");
        assert_eq!(origin.request_count(), 1);
    }

    #[test]
    fn a_network_interceptor_sees_the_encoded_body_the_application_the_decoded() {
        let origin = Origin::start();
        origin.enqueue(gzipped());
        let network = Arc::new(Mutex::new(None));
        let seen = network.clone();
        let client = builder()
            .network_interceptor(interceptor(move |chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let response = chain.proceed(request)?;
                *seen.lock().expect("lock") = Some(encoding_fields(&response));
                Ok(response)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(encoding_fields(&response), (None, None));
        assert_eq!(response.text().expect("body"), "hello, gzip");
        assert_eq!(
            *network.lock().expect("lock"),
            Some((Some("gzip".to_owned()), Some("31".to_owned())))
        );
    }

    #[test]
    fn a_sans_io_interceptor_retries_and_marks_the_response() {
        let origin = Origin::start();
        origin.enqueue(status(503, "busy"));
        origin.enqueue(ok("ok"));
        let client = builder().interceptor(Attempts).build().expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.header("x-intercepted"), Some("1"));
        assert_eq!(response.text().expect("body"), "ok");
        check_attempts(&origin);
    }

    #[test]
    fn a_sans_io_network_interceptor_that_proceeds_twice_is_named() {
        let origin = Origin::start();
        origin.enqueue(ok("one"));
        let client = builder()
            .network_interceptor(Twice)
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a")).expect_err("the rule is broken");
        assert_network_rule(&error, "Twice", "must call proceed() exactly once");
    }
}

// ------------------------------------------------------------------ async (tokio and smol)

mod async_scenarios {
    use super::*;
    use wayfarer_async::{Body, Chain, Client, Net, interceptor};

    fn builder<N: Net>() -> wayfarer_core::ClientBuilder<Client<N>> {
        Client::<N>::builder().user_agent("interceptor-test/1")
    }

    async fn get<N: Net>(client: &Client<N>, url: &str) -> Result<Response<Body<N>>, Error> {
        client
            .new_call(Request::get(url).build().expect("request"))
            .execute()
            .await
    }

    pub async fn an_application_interceptor_adds_a_header_and_proceeds<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(ok("ok"));
        let client = builder::<N>()
            .interceptor(interceptor(|mut chain: Chain<N>| async move {
                let mut request = chain.request().clone();
                request.headers_mut().set("X-Added", "yes")?;
                chain.proceed(request).await
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.text().await.expect("body"), "ok");
        assert_eq!(
            header(&origin.take_request(), "x-added").as_deref(),
            Some("yes")
        );
    }

    pub async fn an_application_interceptor_proceeds_twice<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(status(500, "broken"));
        origin.enqueue(ok("fine"));
        let client = builder::<N>()
            .interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                let first = chain.proceed(request.clone()).await?;
                if first.status().as_u16() != 500 {
                    return Ok(first);
                }
                chain.proceed(request).await
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.text().await.expect("body"), "fine");
        assert_eq!(origin.request_count(), 2);
        assert_eq!(origin.connection_count(), 1, "the 500's body was drained");
    }

    pub async fn an_application_interceptor_answers_without_proceeding<N: Net>() {
        let origin = Origin::start();
        let client = builder::<N>()
            .interceptor(interceptor(|chain: Chain<N>| async move {
                let mut head = Response::new(
                    wayfarer_core::StatusCode::NON_AUTHORITATIVE_INFORMATION,
                    chain.request().clone(),
                );
                head.headers_mut().set("X-Made-Up", "1")?;
                Ok(head.with_body(Body::from_request_body("from the interceptor".into())))
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.status().as_u16(), 203);
        assert_eq!(response.header("x-made-up"), Some("1"));
        assert_eq!(response.text().await.expect("body"), "from the interceptor");
        assert_eq!(origin.connection_count(), 0);
        assert_eq!(origin.request_count(), 0);
    }

    pub async fn an_application_interceptor_replaces_the_body<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(ok("original"));
        origin.enqueue(ok("second"));
        let client = builder::<N>()
            .interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                let response = chain.proceed(request).await?;
                Ok(response.map_body(|_| Body::from_request_body("replaced".into())))
            }))
            .build()
            .expect("client");
        for _ in 0..2 {
            let response = get(&client, &origin.url("/a")).await.expect("call");
            assert_eq!(response.text().await.expect("body"), "replaced");
        }
        assert_eq!(origin.request_count(), 2);
        assert_eq!(
            origin.connection_count(),
            1,
            "the replaced body was discarded and its connection reused"
        );
    }

    pub async fn an_application_interceptor_reads_the_body_and_serves_it_again<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(gzipped());
        origin.enqueue(ok("next"));
        let client = builder::<N>()
            .interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                let (head, body) = chain.proceed(request).await?.into_parts();
                let text = body.text().await?;
                Ok(head.with_body(Body::from_request_body(text.to_uppercase().into())))
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.text().await.expect("body"), "HELLO, GZIP");
        let response = get(&client, &origin.url("/b")).await.expect("call");
        assert_eq!(response.text().await.expect("body"), "NEXT");
        assert_eq!(
            origin.connection_count(),
            1,
            "a body read to its end frees its connection"
        );
    }

    pub async fn an_application_interceptor_reads_a_body_then_proceeds_again<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(ok("try again"));
        origin.enqueue(ok("done"));
        let client = builder::<N>()
            .interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                let first = chain.proceed(request.clone()).await?;
                if first.text().await? == "try again" {
                    return chain.proceed(request).await;
                }
                Err(Error::invalid_input("the origin did not ask to try again"))
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.text().await.expect("body"), "done");
        assert_eq!(origin.request_count(), 2);
        assert_eq!(origin.connection_count(), 1);
    }

    pub async fn an_application_interceptor_reads_part_of_the_body_and_the_caller_the_rest<
        N: Net,
    >() {
        let origin = Origin::start();
        origin.enqueue(ok("header:payload"));
        let client = builder::<N>()
            .interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                let mut response = chain.proceed(request).await?;
                let mut prefix = [0u8; 7];
                let mut read = 0;
                while read < prefix.len() {
                    match response.body_mut().read(&mut prefix[read..]).await? {
                        0 => break,
                        n => read += n,
                    }
                }
                assert_eq!(&prefix[..read], b"header:");
                Ok(response)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.text().await.expect("body"), "payload");
    }

    pub async fn a_network_interceptor_sees_the_bridge_and_every_redirect_hop<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(redirect("/b"));
        origin.enqueue(ok("b"));
        let hops = Arc::new(Mutex::new(Vec::new()));
        let seen = hops.clone();
        let app_calls = Arc::new(Mutex::new(0));
        let counted = app_calls.clone();
        let client = builder::<N>()
            .interceptor(interceptor(move |mut chain: Chain<N>| {
                *counted.lock().expect("lock") += 1;
                async move {
                    let request = chain.request().clone();
                    assert_eq!(request.header("host"), None, "above the bridge");
                    chain.proceed(request).await
                }
            }))
            .network_interceptor(interceptor(move |mut chain: Chain<N>| {
                let seen = seen.clone();
                async move {
                    let request = chain.request().clone();
                    let response = chain.proceed(request.clone()).await?;
                    seen.lock()
                        .expect("lock")
                        .push(hop(&request, response.status().as_u16()));
                    Ok(response)
                }
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.prior_count(), 1);
        assert_eq!(response.text().await.expect("body"), "b");
        assert_eq!(*hops.lock().expect("lock"), expected_hops(&origin));
        assert_eq!(*app_calls.lock().expect("lock"), 1);
    }

    pub async fn a_network_interceptor_that_proceeds_twice_fails_the_call<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(ok("one"));
        origin.enqueue(ok("two"));
        let client = builder::<N>()
            .network_interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                chain.proceed(request.clone()).await?;
                chain.proceed(request).await
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a"))
            .await
            .expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must call proceed() exactly once");
        assert_eq!(origin.request_count(), 1, "the second proceed sent nothing");
    }

    pub async fn a_network_interceptor_that_changes_the_host_fails_the_call<N: Net>() {
        let origin = Origin::start();
        let other = other_host_url(&origin, "/elsewhere");
        let client = builder::<N>()
            .network_interceptor(interceptor(move |mut chain: Chain<N>| {
                let other = other.clone();
                async move {
                    let request = Request::get(other.as_str()).build()?;
                    chain.proceed(request).await
                }
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a"))
            .await
            .expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must retain the same host and port");
        assert_eq!(origin.request_count(), 0);
    }

    pub async fn an_application_interceptor_recovers_from_a_failure_by_proceeding_again<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(ok("recovered"));
        let good = origin.url("/a");
        let client = builder::<N>()
            .interceptor(interceptor(move |mut chain: Chain<N>| {
                let good = good.clone();
                async move {
                    let dead = Request::get(refused_url("/dead").as_str()).build()?;
                    let error = chain
                        .proceed(dead)
                        .await
                        .expect_err("nothing listens there");
                    assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
                    chain.proceed(Request::get(good.as_str()).build()?).await
                }
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.text().await.expect("body"), "recovered");
        assert_eq!(origin.request_count(), 1);
    }

    pub async fn a_network_interceptor_that_answers_without_proceeding_fails_the_call<N: Net>() {
        let origin = Origin::start();
        let client = builder::<N>()
            .network_interceptor(interceptor(|chain: Chain<N>| async move {
                let head = Response::new(wayfarer_core::StatusCode::OK, chain.request().clone());
                Ok(head.with_body(Body::from_request_body("made up".into())))
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a"))
            .await
            .expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must call proceed() exactly once");
        assert_eq!(origin.request_count(), 0);
    }

    pub async fn a_network_interceptor_that_replaces_the_body_fails_the_call<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(ok("real"));
        let client = builder::<N>()
            .network_interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                let response = chain.proceed(request).await?;
                Ok(response.map_body(|_| Body::from_request_body("fake".into())))
            }))
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a"))
            .await
            .expect_err("the rule is broken");
        assert_network_rule(&error, CLOSURE, "must not replace the response body");
        assert_eq!(origin.request_count(), 1);
    }

    pub async fn a_network_interceptor_sees_the_encoded_body_the_application_the_decoded<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(gzipped());
        let network = Arc::new(Mutex::new(None));
        let seen = network.clone();
        let client = builder::<N>()
            .network_interceptor(interceptor(move |mut chain: Chain<N>| {
                let seen = seen.clone();
                async move {
                    let request = chain.request().clone();
                    let response = chain.proceed(request).await?;
                    *seen.lock().expect("lock") = Some(encoding_fields(&response));
                    Ok(response)
                }
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(encoding_fields(&response), (None, None));
        assert_eq!(response.text().await.expect("body"), "hello, gzip");
        assert_eq!(
            *network.lock().expect("lock"),
            Some((Some("gzip".to_owned()), Some("31".to_owned())))
        );
    }

    pub async fn a_sans_io_interceptor_retries_and_marks_the_response<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(status(503, "busy"));
        origin.enqueue(ok("ok"));
        let client = builder::<N>()
            .interceptor(Attempts)
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.header("x-intercepted"), Some("1"));
        assert_eq!(response.text().await.expect("body"), "ok");
        check_attempts(&origin);
    }

    pub async fn a_sans_io_network_interceptor_that_proceeds_twice_is_named<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(ok("one"));
        let client = builder::<N>()
            .network_interceptor(Twice)
            .build()
            .expect("client");
        let error = get(&client, &origin.url("/a"))
            .await
            .expect_err("the rule is broken");
        assert_network_rule(&error, "Twice", "must call proceed() exactly once");
    }
}

/// Each runtime's own closure constructor (`wayfarer_tokio::interceptor`,
/// `wayfarer_smol::interceptor`), as an application reads it in that crate's docs.
mod entry_points {
    use super::*;

    #[test]
    fn wayfarer_tokio_interceptor() {
        use wayfarer_tokio::{Chain, Client, interceptor};
        let origin = Origin::start();
        origin.enqueue(ok("tokio"));
        let runtime = ::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let text = runtime.block_on(async {
            let client = Client::builder()
                .interceptor(interceptor(|mut chain: Chain| async move {
                    let mut request = chain.request().clone();
                    request.headers_mut().set("X-Runtime", "tokio")?;
                    chain.proceed(request).await
                }))
                .build()?;
            let request = Request::get(origin.url("/a")).build()?;
            client.new_call(request).execute().await?.text().await
        });
        assert_eq!(text.expect("call"), "tokio");
        assert_eq!(
            header(&origin.take_request(), "x-runtime").as_deref(),
            Some("tokio")
        );
    }

    #[test]
    fn wayfarer_smol_interceptor() {
        use wayfarer_smol::{Chain, Client, interceptor};
        let origin = Origin::start();
        origin.enqueue(ok("smol"));
        let text = ::smol::block_on(async {
            let client = Client::builder()
                .interceptor(interceptor(|mut chain: Chain| async move {
                    let mut request = chain.request().clone();
                    request.headers_mut().set("X-Runtime", "smol")?;
                    chain.proceed(request).await
                }))
                .build()?;
            let request = Request::get(origin.url("/a")).build()?;
            client.new_call(request).execute().await?.text().await
        });
        assert_eq!(text.expect("call"), "smol");
        assert_eq!(
            header(&origin.take_request(), "x-runtime").as_deref(),
            Some("smol")
        );
    }
}

/// One `#[test]` per scenario and async runtime.
macro_rules! on_async_runtimes {
    ($($scenario:ident),* $(,)?) => {
        mod tokio {
            $(
                #[test]
                fn $scenario() {
                    ::tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime")
                        .block_on(super::async_scenarios::$scenario::<wayfarer_tokio::Tokio>());
                }
            )*
        }
        mod smol {
            $(
                #[test]
                fn $scenario() {
                    ::smol::block_on(super::async_scenarios::$scenario::<wayfarer_smol::Smol>());
                }
            )*
        }
    };
}

on_async_runtimes!(
    an_application_interceptor_adds_a_header_and_proceeds,
    an_application_interceptor_proceeds_twice,
    an_application_interceptor_answers_without_proceeding,
    an_application_interceptor_replaces_the_body,
    an_application_interceptor_reads_the_body_and_serves_it_again,
    an_application_interceptor_reads_a_body_then_proceeds_again,
    an_application_interceptor_reads_part_of_the_body_and_the_caller_the_rest,
    a_network_interceptor_sees_the_bridge_and_every_redirect_hop,
    a_network_interceptor_that_proceeds_twice_fails_the_call,
    a_network_interceptor_that_changes_the_host_fails_the_call,
    an_application_interceptor_recovers_from_a_failure_by_proceeding_again,
    a_network_interceptor_that_answers_without_proceeding_fails_the_call,
    a_network_interceptor_that_replaces_the_body_fails_the_call,
    a_network_interceptor_sees_the_encoded_body_the_application_the_decoded,
    a_sans_io_interceptor_retries_and_marks_the_response,
    a_sans_io_network_interceptor_that_proceeds_twice_is_named,
);
