//! What every client under test is given and must do, and the two drivers (threads for blocking
//! clients, joined futures for async ones) that turn "one exchange" into a timed run.
//!
//! A client's [`ClientUnderTest::run`] builds the client (its connection pool, its runtime),
//! lets every worker make one untimed warm-up exchange (so keep-alive workloads start with open
//! connections and no one pays for first-use setup), then times the workers' measured
//! exchanges together. Building and warming up are outside the timed part.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::join_all;

/// Which group a client belongs to, for the ratios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// One of wayfarer's runtimes.
    Wayfarer,
    /// Another HTTP client: wayfarer is compared with the best of these.
    Peer,
    /// A hand-written loop doing the same exchange with no client at all: the floor.
    Floor,
}

/// How a client waits for I/O. Blocking clients are compared with the `std::net` floor, async
/// ones with the tokio floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Blocking,
    Async,
}

/// Who a client under test is.
#[derive(Debug, Clone, Copy)]
pub struct About {
    /// Its name in the tables.
    pub name: &'static str,
    pub family: Family,
    pub style: Style,
}

/// A client under test.
pub trait ClientUnderTest: Sync {
    fn about(&self) -> About;
    /// Which TLS library and crypto provider it uses, as printed in the clients table.
    fn tls_provider(&self) -> String;
    /// Why this client cannot run `job`, if it cannot.
    fn unsupported(&self, _job: &Job) -> Option<&'static str> {
        None
    }
    /// Builds the client, warms up, and times `job` against `target`.
    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String>;
}

/// The server a run talks to.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://127.0.0.1:PORT` or `https://localhost:PORT`, without a trailing slash.
    pub base: String,
    /// The address the floors connect to.
    pub addr: SocketAddr,
    /// Set for HTTPS: what every client must trust.
    pub tls: Option<Trust>,
}

/// The test CA every client verifies the server's certificate against; none runs insecure.
#[derive(Debug, Clone)]
pub struct Trust {
    pub ca_der: Vec<u8>,
    /// The same CA as a PEM file, for libcurl.
    pub ca_pem_file: PathBuf,
    /// The name in the server's certificate, which the URL uses.
    pub server_name: &'static str,
}

impl Target {
    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The `Host` field the floors send.
    pub fn host(&self) -> String {
        match &self.tls {
            Some(trust) => format!("{}:{}", trust.server_name, self.addr.port()),
            None => self.addr.to_string(),
        }
    }
}

/// What one timed run does: `workers` concurrent workers each make one warm-up exchange, then
/// `per_worker` measured ones.
#[derive(Debug, Clone)]
pub struct Job {
    /// The path to GET, or to POST `upload` to.
    pub path: String,
    /// A request body: the exchange is a POST of it.
    pub upload: Option<Bytes>,
    /// Every request asks for `Connection: close`, so every exchange opens a new connection.
    pub fresh_connections: bool,
    /// Whether TLS clients may resume sessions (only meaningful with `fresh_connections`).
    pub resumption: bool,
    pub workers: usize,
    pub per_worker: usize,
    /// The body length each GET must return (0 for uploads, which get an empty response).
    pub expect_len: u64,
}

impl Job {
    /// The number of measured exchanges.
    pub fn requests(&self) -> u64 {
        (self.workers * self.per_worker) as u64
    }
}

/// What a timed run measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub elapsed: Duration,
    pub requests: u64,
    /// Response body bytes received plus request body bytes sent.
    pub bytes: u64,
}

/// The body length one exchange moved (response bytes, plus request bytes for an upload), after
/// checking the response body had the expected length.
pub fn checked_len(job: &Job, received: u64) -> Result<u64, String> {
    if received != job.expect_len {
        return Err(format!(
            "{}: got a {received}-byte body, expected {}",
            job.path, job.expect_len
        ));
    }
    Ok(received + job.upload.as_ref().map_or(0, |b| b.len() as u64))
}

/// Checks an HTTP status is 200.
pub fn check_status(status: u16) -> Result<(), String> {
    if status == 200 {
        Ok(())
    } else {
        Err(format!("HTTP status {status}"))
    }
}

/// Runs `job` on `job.workers` threads. Each thread owns a `W` (a connection, a handle, or
/// nothing) that `exchange` may fill in on first use, and returns the bytes one exchange moved.
pub fn run_threads<W, F>(job: &Job, exchange: F) -> Result<Sample, String>
where
    W: Default,
    F: Fn(&mut W) -> Result<u64, String> + Sync,
{
    // Every worker and the timer meet here after warming up, whether or not warming up failed,
    // so one failure cannot leave the others waiting.
    let start_line = Barrier::new(job.workers + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..job.workers)
            .map(|_| {
                let (exchange, start_line) = (&exchange, &start_line);
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        let mut state = W::default();
                        let warm = exchange(&mut state);
                        start_line.wait();
                        warm?;
                        let mut moved = 0;
                        for _ in 0..job.per_worker {
                            moved += exchange(&mut state)?;
                        }
                        Ok::<u64, String>(moved)
                    })
                    .map_err(|e| format!("cannot start a worker thread: {e}"))
            })
            .collect::<Result<_, _>>()?;
        start_line.wait();
        let start = Instant::now();
        let mut bytes = 0;
        let mut first_error = None;
        for worker in workers {
            match worker.join() {
                Ok(Ok(moved)) => bytes += moved,
                Ok(Err(e)) => first_error = first_error.or(Some(e)),
                Err(_) => first_error = first_error.or(Some("a worker panicked".to_string())),
            }
        }
        let elapsed = start.elapsed();
        match first_error {
            Some(e) => Err(e),
            None => Ok(Sample {
                elapsed,
                requests: job.requests(),
                bytes,
            }),
        }
    })
}

/// Runs `job` as `job.workers` futures joined in the calling task, on whatever executor polls
/// the returned future. As with [`run_threads`], each worker owns a `W`.
pub async fn run_tasks<W, F>(job: &Job, exchange: F) -> Result<Sample, String>
where
    W: Default,
    F: AsyncFn(&mut W) -> Result<u64, String>,
{
    // `exchange` borrows its worker state for the length of one exchange; each worker's loop
    // owns its state, so the workers run concurrently without sharing any.
    let exchange = &exchange;
    let mut states: Vec<W> = (0..job.workers).map(|_| W::default()).collect();
    for warm in join_all(
        states
            .iter_mut()
            .map(|state| async move { exchange(state).await }),
    )
    .await
    {
        warm?;
    }
    let start = Instant::now();
    let results = join_all(states.iter_mut().map(|state| async move {
        let mut moved = 0;
        for _ in 0..job.per_worker {
            moved += exchange(state).await?;
        }
        Ok::<u64, String>(moved)
    }))
    .await;
    let elapsed = start.elapsed();
    let mut bytes = 0;
    for result in results {
        bytes += result?;
    }
    Ok(Sample {
        elapsed,
        requests: job.requests(),
        bytes,
    })
}

/// A single-threaded tokio runtime: every tokio-based client runs on one thread, like the
/// blocking ones on one core.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a tokio runtime: {e}"))
}

/// The size of the buffer blocking clients and the floors read bodies into: the same 64 KiB
/// for all of them (wayfarer's async body chunks start at 64 KiB and grow on long bodies, as
/// hyper's read buffer does under reqwest and hyper-util).
pub const READ_BUFFER: usize = 64 * 1024;

/// A worker's read buffer, allocated once per worker.
#[derive(Debug)]
pub struct ReadBuffer(pub Vec<u8>);

impl Default for ReadBuffer {
    fn default() -> ReadBuffer {
        ReadBuffer(vec![0; READ_BUFFER])
    }
}

/// Reads `body` to its end through `buf`, returning how many bytes it had.
pub fn drain(mut body: impl std::io::Read, buf: &mut ReadBuffer) -> std::io::Result<u64> {
    let mut received = 0;
    loop {
        match body.read(&mut buf.0)? {
            0 => return Ok(received),
            n => received += n as u64,
        }
    }
}

/// How many idle connections every client is told it may keep, so that the 64-way workloads
/// keep every connection alive in every client.
pub const POOL_SIZE: usize = 128;

/// Formats any error for a sample's failure message.
pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
