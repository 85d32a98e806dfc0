//! What every runner does the same way: build the client and the requests a vector describes,
//! and record what came back as an [`Outcome`](crate::vector::Outcome).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use wayfarer_core::{Body, ClientBuilder, Error, Method, Request, Response, Version};

use crate::vector::{Authorities, BodySpec, CallSpec, OutcomeError, OutcomeHead, VectorConfig};

/// Applies a vector's `[config]` to a client builder.
pub fn configure<C>(mut builder: ClientBuilder<C>, config: &VectorConfig) -> ClientBuilder<C> {
    if let Some(d) = config.connect_timeout {
        builder = builder.connect_timeout(d);
    }
    if let Some(d) = config.read_timeout {
        builder = builder.read_timeout(d);
    }
    if let Some(d) = config.write_timeout {
        builder = builder.write_timeout(d);
    }
    if let Some(d) = config.call_timeout {
        builder = builder.call_timeout(d);
    }
    if let Some(d) = config.expect_continue_timeout {
        builder = builder.expect_continue_timeout(d);
    }
    if let Some(n) = config.max_head_bytes {
        builder = builder.max_response_head_bytes(n);
    }
    if let Some(n) = config.max_headers {
        builder = builder.max_response_headers(n);
    }
    if let Some(n) = config.max_interim_responses {
        builder = builder.max_interim_responses(n);
    }
    if let Some(n) = config.max_chunk_extension_bytes {
        builder = builder.max_chunk_extension_bytes(n);
    }
    if let Some(n) = config.max_trailer_bytes {
        builder = builder.max_trailer_bytes(n);
    }
    if let Some(on) = config.follow_redirects {
        builder = builder.follow_redirects(on);
    }
    if let Some(on) = config.follow_ssl_redirects {
        builder = builder.follow_ssl_redirects(on);
    }
    if let Some(on) = config.retry_on_connection_failure {
        builder = builder.retry_on_connection_failure(on);
    }
    if let Some(n) = config.max_follow_ups {
        builder = builder.max_follow_ups(n);
    }
    if let Some(on) = config.gzip {
        builder = builder.gzip(on);
    }
    if let Some(n) = config.max_decompressed_bytes {
        builder = builder.max_decompressed_bytes(n);
    }
    if let Some((user, password)) = &config.basic_auth {
        builder = builder.authenticator(wayfarer_core::BasicAuthenticator::new(user, password));
    }
    if let Some(agent) = &config.user_agent {
        builder = builder.user_agent(agent);
    }
    if config.cookie_jar {
        builder = builder.cookie_jar(wayfarer_core::cookies::MemoryCookieJar::new());
    }
    builder
}

/// Applies a vector's `[config]`, with the settings that name an origin (`proxy`) expanded
/// against `authorities`.
pub fn configure_for<C>(
    builder: ClientBuilder<C>,
    config: &VectorConfig,
    authorities: &Authorities,
) -> ClientBuilder<C> {
    let builder = configure(builder, config);
    match &config.proxy {
        Some(proxy) => match wayfarer_core::Proxy::parse(&authorities.expand_str(proxy)) {
            Ok(proxy) => builder.proxy(proxy),
            Err(e) => panic!("the vector's proxy {proxy:?} does not parse: {e}"),
        },
        None => builder,
    }
}

/// How a streamed request body is handed to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// A `std::io::Read` yielding one piece per read.
    Reader,
    /// An async `Stream` yielding one piece per item.
    Stream,
}

/// The request for one `[call N]`, against the first origin in `authorities`.
pub fn request(
    spec: &CallSpec,
    authorities: &Authorities,
    kind: StreamKind,
) -> Result<Request, Error> {
    let method = Method::from_bytes(spec.method.as_bytes())
        .map_err(|_| Error::invalid_input(format!("invalid method {:?}", spec.method)))?;
    let url = if spec.target.starts_with('/') {
        format!("http://{}{}", authorities.first, spec.target)
    } else {
        authorities.expand_str(&spec.target)
    };
    let mut builder = Request::builder(method, url);
    if spec.idempotent {
        builder = builder.idempotent(true);
    }
    if let Some(timeout) = spec.timeout {
        builder = builder.timeout(timeout);
    }
    for (name, value) in &spec.headers {
        builder = builder.header(name, authorities.expand(value));
    }
    let body = match &spec.body {
        BodySpec::None => Body::empty(),
        BodySpec::Bytes(b) => Body::from(b.clone()),
        BodySpec::Stream { len, pieces } => match kind {
            StreamKind::Reader => Body::from_reader(Pieces(pieces.clone().into()), *len),
            StreamKind::Stream => Body::from_stream(Pieces(pieces.clone().into()), *len),
        },
    };
    builder.body(body).build()
}

/// Yields each piece whole (a reader returns one piece per read when the buffer is large enough),
/// so chunk boundaries on the wire follow the vector's pieces.
struct Pieces(std::collections::VecDeque<Vec<u8>>);

impl io::Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(piece) = self.0.front_mut() else {
            return Ok(0);
        };
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        piece.drain(..n);
        if piece.is_empty() {
            self.0.pop_front();
        }
        Ok(n)
    }
}

impl futures_core::Stream for Pieces {
    type Item = io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front().map(|p| Ok(Bytes::from(p))))
    }
}

/// The recorded head of a response.
pub fn head<B>(response: &Response<B>) -> OutcomeHead {
    OutcomeHead {
        status: response.status().as_u16(),
        reason: response.reason().to_owned(),
        version: if response.version() == Version::HTTP_10 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        }
        .to_owned(),
        headers: response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_vec()))
            .collect(),
        source: crate::vector::cache::source(response),
        url: response.request().url().to_string(),
        prior: std::iter::successors(response.prior_response(), |r| r.prior_response())
            .map(|r| r.status().as_u16())
            .collect(),
    }
}

/// The recorded form of an error.
pub fn error(e: &Error) -> OutcomeError {
    OutcomeError {
        kind: e.kind().as_str().to_owned(),
        message: e.to_string(),
    }
}

/// Runs one call on an async client and records its outcome, reading the body as the spec says.
pub async fn call_async<N: wayfarer_async::Net>(
    client: &wayfarer_async::Client<N>,
    spec: &CallSpec,
    authorities: &Authorities,
) -> crate::vector::Outcome {
    let mut outcome = crate::vector::Outcome::default();
    let request = match request(spec, authorities, StreamKind::Stream) {
        Ok(r) => r,
        Err(e) => {
            outcome.error = Some(error(&e));
            return outcome;
        }
    };
    let mut response = match client.new_call(request).execute().await {
        Ok(r) => r,
        Err(e) => {
            outcome.error = Some(error(&e));
            return outcome;
        }
    };
    outcome.head = Some(head(&response));
    let limit = match spec.read_body {
        crate::vector::ReadBody::All => usize::MAX,
        crate::vector::ReadBody::None => 0,
        crate::vector::ReadBody::Bytes(n) => n,
    };
    let mut buf = [0u8; 4096];
    while outcome.body.len() < limit {
        let want = (limit - outcome.body.len()).min(buf.len());
        match response.body_mut().read(&mut buf[..want]).await {
            Ok(0) => break,
            Ok(n) => outcome.body.extend_from_slice(&buf[..n]),
            Err(e) => {
                outcome.error = Some(error(&e));
                break;
            }
        }
    }
    outcome
}

/// Plays a vector against an async client built from its config, on whatever executor awaits
/// the returned future; panics with the checker's report on a mismatch.
pub async fn replay_async<N: wayfarer_async::Net>(path: &str, variant: crate::vector::Variant) {
    let vector = crate::vector::load(path);
    let origins = crate::origin::play_all(&vector.scripts(), variant);
    let authorities = origins.authorities();
    let builder = configure_for(
        wayfarer_async::Client::builder(),
        &vector.config,
        &authorities,
    );
    let (builder, _cache) = crate::vector::cache::configure(builder, vector.config.cache);
    let client: wayfarer_async::Client<N> = builder.build().expect("client");
    let mut outcomes = Vec::new();
    for spec in &vector.calls {
        // A short `after` (a vector with long ones runs on the core only) is waited out on the
        // runtime's own timer, so its reactor and the pool's cleanup task run meanwhile.
        if let Some(after) = spec.after {
            let mut timer = N::timer(std::time::Instant::now() + after);
            std::future::poll_fn(|cx| N::poll_timer(&mut timer, cx)).await;
        }
        outcomes.push(call_async(&client, spec, &authorities).await);
    }
    drop(client);
    // finish() blocks until the scripts end; the client is gone, so nothing here needs polling.
    let records = origins.finish();
    if let Err(report) = crate::vector::check(&vector, &outcomes, &records, &authorities) {
        panic!("{path} ({}):\n{report}", variant.name());
    }
}

/// The three runtimes, for tests that run the same scenario on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `wayfarer-blocking`.
    Blocking,
    /// `wayfarer-tokio` on a current-thread runtime.
    Tokio,
    /// `wayfarer-smol` on smol's executor.
    Smol,
}

impl Runtime {
    /// Every runtime.
    pub const ALL: [Runtime; 3] = [Runtime::Blocking, Runtime::Tokio, Runtime::Smol];

    /// GETs each URL in turn on one client built from `config`, handing every body chunk to
    /// `on_body(url_index, chunk)` as it is read (256 KiB reads; nothing is buffered whole).
    /// Returns each call's status, or its error.
    pub fn fetch_each(
        self,
        config: wayfarer_core::Config,
        urls: &[String],
        mut on_body: impl FnMut(usize, &[u8]),
    ) -> Vec<Result<u16, Error>> {
        let mut buf = vec![0u8; 256 * 1024];
        match self {
            Runtime::Blocking => {
                let client = wayfarer_blocking::Client::from(config);
                let mut results = Vec::new();
                for (i, url) in urls.iter().enumerate() {
                    let result = (|| {
                        let request = Request::get(url).build()?;
                        let mut response = client.new_call(request).execute()?;
                        loop {
                            match response.body_mut().read_bytes(&mut buf)? {
                                0 => return Ok(response.status().as_u16()),
                                n => on_body(i, &buf[..n]),
                            }
                        }
                    })();
                    results.push(result);
                }
                results
            }
            Runtime::Tokio => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(fetch_async(
                    wayfarer_tokio::Client::from(config),
                    urls,
                    &mut buf,
                    &mut on_body,
                ))
            }
            Runtime::Smol => smol::block_on(fetch_async(
                wayfarer_smol::Client::from(config),
                urls,
                &mut buf,
                &mut on_body,
            )),
        }
    }
}

impl Runtime {
    /// Runs `calls` in turn, each a GET of a URL on one of several clients that share a
    /// connection pool: client 0 is built from `configs[0]`, each other from its config with
    /// `with_config` on client 0. Bodies are read to the end (so connections go back to the
    /// pool); each call gives its response head, or its error.
    pub fn fetch_on_shared_pool(
        self,
        configs: &[wayfarer_core::Config],
        calls: &[(usize, String)],
    ) -> Vec<Result<Response<()>, Error>> {
        match self {
            Runtime::Blocking => {
                let base = wayfarer_blocking::Client::from(configs[0].clone());
                let clients: Vec<_> = std::iter::once(base.clone())
                    .chain(configs[1..].iter().map(|c| base.with_config(c.clone())))
                    .collect();
                let mut buf = vec![0u8; 64 * 1024];
                calls
                    .iter()
                    .map(|(i, url)| {
                        let request = Request::get(url).build()?;
                        let mut response = clients[*i].new_call(request).execute()?;
                        while response.body_mut().read_bytes(&mut buf)? > 0 {}
                        Ok(response.head())
                    })
                    .collect()
            }
            Runtime::Tokio => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(shared_async::<wayfarer_tokio::Tokio>(configs, calls))
            }
            Runtime::Smol => smol::block_on(shared_async::<wayfarer_smol::Smol>(configs, calls)),
        }
    }
}

async fn shared_async<N: wayfarer_async::Net>(
    configs: &[wayfarer_core::Config],
    calls: &[(usize, String)],
) -> Vec<Result<Response<()>, Error>> {
    let base = wayfarer_async::Client::<N>::from(configs[0].clone());
    let clients: Vec<_> = std::iter::once(base.clone())
        .chain(configs[1..].iter().map(|c| base.with_config(c.clone())))
        .collect();
    let mut buf = vec![0u8; 64 * 1024];
    let mut results = Vec::new();
    for (i, url) in calls {
        let result = async {
            let request = Request::get(url).build()?;
            let mut response = clients[*i].new_call(request).execute().await?;
            while response.body_mut().read(&mut buf).await? > 0 {}
            Ok(response.head())
        }
        .await;
        results.push(result);
    }
    results
}

async fn fetch_async<N: wayfarer_async::Net>(
    client: wayfarer_async::Client<N>,
    urls: &[String],
    buf: &mut [u8],
    on_body: &mut impl FnMut(usize, &[u8]),
) -> Vec<Result<u16, Error>> {
    let mut results = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let result = async {
            let request = Request::get(url).build()?;
            let mut response = client.new_call(request).execute().await?;
            loop {
                match response.body_mut().read(buf).await? {
                    0 => return Ok(response.status().as_u16()),
                    n => on_body(i, &buf[..n]),
                }
            }
        }
        .await;
        results.push(result);
    }
    results
}
