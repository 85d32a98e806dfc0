//! User interceptors on every runtime, against the queue-mode origin: the closure form of each
//! runtime (`wayfarer_blocking::interceptor`, `wayfarer_tokio::interceptor`,
//! `wayfarer_smol::interceptor`) and the sans-IO `wayfarer_core::Interceptor`.
//!
//! Application interceptors: one that adds a header and proceeds, one that proceeds twice (a
//! retry of its own), one that answers without proceeding, one that replaces the response body.
//! Network interceptors: one that sees the bridge's fields and every redirect hop, and ones that
//! break the network rules (proceeding twice, changing the host), which fail the call with an
//! error naming the interceptor. The async runtimes' scenarios are in `interceptors_async.rs`.

mod interceptors_shared;

use interceptors_shared::*;

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
    fn an_application_interceptor_rewrites_the_url_keeping_the_rest() {
        let origin = Origin::start();
        origin.enqueue(ok("ok"));
        let target = origin.url("/rewritten");
        let client = builder()
            .interceptor(interceptor(move |chain: &mut Chain<'_>| {
                let mut request = chain.request().clone();
                let mut url = wayfarer_core::Url::parse(&target).expect("url");
                url.set_query(request.url().query());
                url.query_pairs_mut().append_pair("api_key", "k 1");
                request.set_url(url)?;
                chain.proceed(request)
            }))
            .build()
            .expect("client");
        // The original URL is refused; only the rewritten one reaches a server.
        let request = Request::get(refused_url("/a?x=1"))
            .header("X-Keep", "kept")
            .build()
            .expect("request");
        let response = client.new_call(request).execute().expect("call");
        assert_eq!(response.text().expect("body"), "ok");
        let seen = origin.take_request();
        assert_eq!(seen.line, "GET /rewritten?x=1&api_key=k+1 HTTP/1.1");
        assert_eq!(header(&seen, "x-keep").as_deref(), Some("kept"));
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

    #[test]
    fn a_pass_through_interceptor_keeps_the_body_charset() {
        let origin = Origin::start();
        for _ in 0..2 {
            origin.enqueue(Reply::new(
                &b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Length: 4\r\n\r\ncaf\xe9"[..],
            ));
        }
        let plain = builder().build().expect("client");
        let text = |client: &Client| {
            get(client, &origin.url("/latin1"))
                .expect("call")
                .into_body()
                .text()
                .expect("text")
        };
        assert_eq!(text(&plain), "café");
        let intercepted = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                chain.proceed(request)
            }))
            .build()
            .expect("client");
        assert_eq!(text(&intercepted), "café");
    }

    /// A response the interceptor proceeded past (it proceeded again, then returned the first)
    /// has lost its body: reading it fails, and never yields the second response's.
    #[test]
    fn a_response_proceeded_past_has_no_body() {
        let origin = Origin::start();
        origin.enqueue(status(500, "first body"));
        origin.enqueue(ok("second body"));
        let client = builder()
            .interceptor(interceptor(|chain: &mut Chain<'_>| {
                let request = chain.request().clone();
                let first = chain.proceed(request.clone())?;
                let _second = chain.proceed(request)?;
                Ok(first)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).expect("call");
        assert_eq!(response.status().as_u16(), 500);
        let e = response.bytes().expect_err("the body was discarded");
        assert!(e.to_string().contains("proceeded again"), "{e}");
    }

    /// An interceptor that panics on an enqueued call: the callback still hears of it (with an
    /// error), the dispatcher frees the call's slot, and the panic goes on to the dispatcher's
    /// thread.
    #[test]
    fn a_panicking_interceptor_still_tells_the_enqueued_calls_callback() {
        let origin = Origin::start();
        let client = builder()
            .interceptor(interceptor(
                |_: &mut Chain<'_>| -> Result<wayfarer_blocking::Response, Error> {
                    panic!("interceptor bug")
                },
            ))
            .build()
            .expect("client");
        let (told, heard) = std::sync::mpsc::channel::<Result<u16, String>>();
        client
            .new_call(Request::get(origin.url("/a")).build().expect("request"))
            .enqueue(
                move |_: &wayfarer_blocking::Call,
                      result: Result<wayfarer_blocking::Response, Error>| {
                    let _ = told.send(
                        result
                            .map(|r| r.status().as_u16())
                            .map_err(|e| e.to_string()),
                    );
                },
            );
        let heard = heard
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the callback is called");
        let e = heard.expect_err("a failure");
        assert!(e.contains("panicked: interceptor bug"), "{e}");
        for _ in 0..100 {
            if client.dispatcher().running_calls_count() == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(client.dispatcher().running_calls_count(), 0);
    }
}
