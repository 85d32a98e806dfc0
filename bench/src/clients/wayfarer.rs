//! wayfarer's three runtimes, through their public API only: `Client::builder()`,
//! `client.new_call(request).execute()`, and the body read with `std::io::Read` (blocking) or
//! `body_mut().chunk().await` (tokio, smol).

use std::sync::Arc;

use wayfarer_core::{Certificate, ClientBuilder, Config, Request};

use crate::client::{
    About, ClientUnderTest, Family, Job, POOL_SIZE, ReadBuffer, Sample, Style, Target,
    check_status, checked_len, drain, err, run_tasks, run_threads, tokio_runtime,
};
use crate::tls;

const PROVIDER: &str = "rustls 0.23 + ring (built in)";

/// The same settings for every runtime: a pool as large as the other clients', and the test
/// CA as the only root. With resumption off, the TLS configuration is handed over whole.
fn configure<C: From<Config>>(
    builder: ClientBuilder<C>,
    target: &Target,
    job: &Job,
) -> Result<C, String> {
    let builder = builder.max_idle_connections(POOL_SIZE);
    let builder = match &target.tls {
        None => builder,
        Some(trust) if job.resumption => builder
            .tls_built_in_roots(false)
            .add_root_certificate(Certificate::from_der(trust.ca_der.clone())),
        Some(trust) => builder.tls_config(Arc::new(tls::client_config(trust, false)?)),
    };
    builder.build().map_err(err)
}

fn request(url: &str, job: &Job) -> Result<Request, String> {
    let mut builder = match &job.upload {
        Some(body) => Request::post(url).body(body.clone()),
        None => Request::get(url),
    };
    if job.fresh_connections {
        builder = builder.header("Connection", "close");
    }
    builder.build().map_err(err)
}

#[derive(Debug)]
pub struct Blocking;

impl ClientUnderTest for Blocking {
    fn about(&self) -> About {
        About {
            name: "wayfarer-blocking",
            family: Family::Wayfarer,
            style: Style::Blocking,
        }
    }
    fn tls_provider(&self) -> String {
        PROVIDER.into()
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        let client: wayfarer_blocking::Client =
            configure(wayfarer_blocking::Client::builder(), target, job)?;
        let url = target.url(&job.path);
        run_threads(job, |buf: &mut ReadBuffer| {
            let mut response = client
                .new_call(request(&url, job)?)
                .execute()
                .map_err(err)?;
            check_status(response.status().as_u16())?;
            checked_len(job, drain(response.body_mut(), buf).map_err(err)?)
        })
    }
}

/// One exchange on an async wayfarer client (tokio's or smol's: the same API on both).
macro_rules! async_exchange {
    ($client:expr, $url:expr, $job:expr) => {
        async {
            let mut response = $client
                .new_call(request($url, $job)?)
                .execute()
                .await
                .map_err(err)?;
            check_status(response.status().as_u16())?;
            let mut received = 0;
            while let Some(chunk) = response.body_mut().chunk().await.map_err(err)? {
                received += chunk.len() as u64;
            }
            checked_len($job, received)
        }
    };
}

#[derive(Debug)]
pub struct Tokio;

impl ClientUnderTest for Tokio {
    fn about(&self) -> About {
        About {
            name: "wayfarer-tokio",
            family: Family::Wayfarer,
            style: Style::Async,
        }
    }
    fn tls_provider(&self) -> String {
        PROVIDER.into()
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        tokio_runtime()?.block_on(async {
            let client: wayfarer_tokio::Client =
                configure(wayfarer_tokio::Client::builder(), target, job)?;
            let url = target.url(&job.path);
            run_tasks(job, async |_: &mut ()| {
                async_exchange!(client, &url, job).await
            })
            .await
        })
    }
}

#[derive(Debug)]
pub struct Smol;

impl ClientUnderTest for Smol {
    fn about(&self) -> About {
        About {
            name: "wayfarer-smol",
            family: Family::Wayfarer,
            style: Style::Async,
        }
    }
    fn tls_provider(&self) -> String {
        PROVIDER.into()
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        smol::block_on(async {
            let client: wayfarer_smol::Client =
                configure(wayfarer_smol::Client::builder(), target, job)?;
            let url = target.url(&job.path);
            run_tasks(job, async |_: &mut ()| {
                async_exchange!(client, &url, job).await
            })
            .await
        })
    }
}
