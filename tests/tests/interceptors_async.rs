//! User interceptors on tokio and smol (the closure form and the sans-IO trait), written once
//! generic over `wayfarer_async::Net`; see `interceptors.rs` for what each scenario checks.

mod interceptors_shared;

use interceptors_shared::*;

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

    /// A response the interceptor proceeded past (it proceeded again, then returned the
    /// first) has lost its body: reading it fails, and never yields the second response's.
    pub async fn a_response_proceeded_past_has_no_body<N: Net>() {
        let origin = Origin::start();
        origin.enqueue(status(500, "first body"));
        origin.enqueue(ok("second body"));
        let client = builder::<N>()
            .interceptor(interceptor(|mut chain: Chain<N>| async move {
                let request = chain.request().clone();
                let first = chain.proceed(request.clone()).await?;
                let _second = chain.proceed(request).await?;
                Ok(first)
            }))
            .build()
            .expect("client");
        let response = get(&client, &origin.url("/a")).await.expect("call");
        assert_eq!(response.status().as_u16(), 500);
        let e = response.bytes().await.expect_err("the body was discarded");
        assert!(e.to_string().contains("proceeded again"), "{e}");
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
    a_response_proceeded_past_has_no_body,
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
