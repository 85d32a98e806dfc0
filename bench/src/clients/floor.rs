//! The floors: the same HTTP/1.1 exchanges written by hand, with no client library at all.
//! Each worker keeps one connection (opened on first use, reopened when the server or the job
//! closes it), writes the request bytes and counts the response body with
//! [`ResponseReader`](crate::raw_http::ResponseReader). Over TLS the connection is rustls on
//! ring: `StreamOwned` over `std::net`, tokio-rustls over tokio.
//!
//! No client can do less work per exchange than these, so "× floor" says how close a client
//! gets to what the socket (and TLS) cost anyway.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::client::{
    About, ClientUnderTest, Family, Job, ReadBuffer, Sample, Style, Target, checked_len, err,
    run_tasks, run_threads, tokio_runtime,
};
use crate::raw_http::{Progress, ResponseReader, request_head};
use crate::tls::{self, RUSTLS_RING};

/// The request every exchange of `job` writes, and the TLS configuration (shared by all
/// connections, so it also holds the session cache) when the target is HTTPS.
struct Exchange<'a> {
    target: &'a Target,
    job: &'a Job,
    head: Vec<u8>,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
}

impl<'a> Exchange<'a> {
    fn new(target: &'a Target, job: &'a Job) -> Result<Exchange<'a>, String> {
        let method = if job.upload.is_some() { "POST" } else { "GET" };
        let upload_len = job.upload.as_ref().map(|body| body.len());
        let head = request_head(
            method,
            &job.path,
            &target.host(),
            upload_len,
            job.fresh_connections,
        );
        let tls = match &target.tls {
            None => None,
            Some(trust) => {
                let config = Arc::new(tls::client_config(trust, job.resumption)?);
                let name = ServerName::try_from(trust.server_name).map_err(err)?;
                Some((config, name))
            }
        };
        Ok(Exchange {
            target,
            job,
            head,
            tls,
        })
    }

    /// Whether the connection may carry the next request.
    fn keep(&self, progress: Progress) -> bool {
        matches!(progress, Progress::Done { reusable: true, .. }) && !self.job.fresh_connections
    }
}

fn body_len(progress: Progress) -> u64 {
    match progress {
        Progress::Done { body, .. } => body,
        Progress::NeedMore => 0,
    }
}

fn eof() -> String {
    "the server closed the connection before the response ended".into()
}

trait SyncStream: Read + Write + Send {}
impl<T: Read + Write + Send> SyncStream for T {}

#[derive(Default)]
struct StdWorker {
    conn: Option<Box<dyn SyncStream>>,
    buf: ReadBuffer,
}

impl Exchange<'_> {
    fn connect_std(&self) -> io::Result<Box<dyn SyncStream>> {
        let tcp = TcpStream::connect(self.target.addr)?;
        tcp.set_nodelay(true)?;
        Ok(match &self.tls {
            None => Box::new(tcp),
            Some((config, name)) => {
                let session = rustls::ClientConnection::new(config.clone(), name.clone())
                    .map_err(io::Error::other)?;
                Box::new(rustls::StreamOwned::new(session, tcp))
            }
        })
    }

    fn run_std(&self, worker: &mut StdWorker) -> Result<u64, String> {
        let conn = match &mut worker.conn {
            Some(conn) => conn,
            None => worker.conn.insert(self.connect_std().map_err(err)?),
        };
        conn.write_all(&self.head).map_err(err)?;
        if let Some(body) = &self.job.upload {
            conn.write_all(body).map_err(err)?;
        }
        conn.flush().map_err(err)?;
        let mut reader = ResponseReader::default();
        let progress = loop {
            let n = conn.read(&mut worker.buf.0).map_err(err)?;
            if n == 0 {
                return Err(eof());
            }
            match reader.feed(&worker.buf.0[..n])? {
                Progress::NeedMore => {}
                done => break done,
            }
        };
        if !self.keep(progress) {
            worker.conn = None;
        }
        checked_len(self.job, body_len(progress))
    }
}

trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

#[derive(Default)]
struct TokioWorker {
    conn: Option<Box<dyn AsyncStream>>,
    buf: ReadBuffer,
}

impl Exchange<'_> {
    async fn connect_tokio(&self) -> io::Result<Box<dyn AsyncStream>> {
        let tcp = tokio::net::TcpStream::connect(self.target.addr).await?;
        tcp.set_nodelay(true)?;
        Ok(match &self.tls {
            None => Box::new(tcp),
            Some((config, name)) => {
                let connector = tokio_rustls::TlsConnector::from(config.clone());
                Box::new(connector.connect(name.clone(), tcp).await?)
            }
        })
    }

    async fn run_tokio(&self, worker: &mut TokioWorker) -> Result<u64, String> {
        let conn = match &mut worker.conn {
            Some(conn) => conn,
            None => worker.conn.insert(self.connect_tokio().await.map_err(err)?),
        };
        conn.write_all(&self.head).await.map_err(err)?;
        if let Some(body) = &self.job.upload {
            conn.write_all(body).await.map_err(err)?;
        }
        conn.flush().await.map_err(err)?;
        let mut reader = ResponseReader::default();
        let progress = loop {
            let n = conn.read(&mut worker.buf.0).await.map_err(err)?;
            if n == 0 {
                return Err(eof());
            }
            match reader.feed(&worker.buf.0[..n])? {
                Progress::NeedMore => {}
                done => break done,
            }
        };
        if !self.keep(progress) {
            worker.conn = None;
        }
        checked_len(self.job, body_len(progress))
    }
}

/// Blocking sockets, one thread per worker.
#[derive(Debug)]
pub struct StdFloor;

impl ClientUnderTest for StdFloor {
    fn about(&self) -> About {
        About {
            name: "floor-std",
            family: Family::Floor,
            style: Style::Blocking,
        }
    }

    fn tls_provider(&self) -> String {
        format!("{RUSTLS_RING} (StreamOwned)")
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        let exchange = Exchange::new(target, job)?;
        run_threads(job, |worker: &mut StdWorker| exchange.run_std(worker))
    }
}

/// tokio sockets on a single-threaded runtime, one future per worker.
#[derive(Debug)]
pub struct TokioFloor;

impl ClientUnderTest for TokioFloor {
    fn about(&self) -> About {
        About {
            name: "floor-tokio",
            family: Family::Floor,
            style: Style::Async,
        }
    }

    fn tls_provider(&self) -> String {
        format!("{RUSTLS_RING} (tokio-rustls)")
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        let exchange = Exchange::new(target, job)?;
        tokio_runtime()?.block_on(run_tasks(job, async |worker: &mut TokioWorker| {
            exchange.run_tokio(worker).await
        }))
    }
}
