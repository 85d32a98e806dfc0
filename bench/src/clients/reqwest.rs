//! reqwest (async, HTTP/1.1 only) on a single-threaded tokio runtime, with rustls on ring.

use crate::client::{
    About, ClientUnderTest, Family, Job, POOL_SIZE, Sample, Style, Target, check_status,
    checked_len, err, run_tasks, tokio_runtime,
};
use crate::tls;

#[derive(Debug)]
pub struct Reqwest;

impl ClientUnderTest for Reqwest {
    fn about(&self) -> About {
        About {
            name: "reqwest",
            family: Family::Peer,
            style: Style::Async,
        }
    }

    fn tls_provider(&self) -> String {
        format!("{} (preconfigured)", tls::RUSTLS_RING)
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        tokio_runtime()?.block_on(async {
            let mut builder = reqwest::Client::builder()
                .http1_only()
                .no_proxy()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(POOL_SIZE);
            if let Some(trust) = &target.tls {
                builder =
                    builder.tls_backend_preconfigured(tls::client_config(trust, job.resumption)?);
            }
            let client = builder.build().map_err(err)?;
            let url = target.url(&job.path);
            run_tasks(job, async |_: &mut ()| {
                let mut request = match &job.upload {
                    Some(body) => client.post(&url).body(body.clone()),
                    None => client.get(&url),
                };
                if job.fresh_connections {
                    request = request.header("Connection", "close");
                }
                let mut response = request.send().await.map_err(err)?;
                check_status(response.status().as_u16())?;
                let mut received = 0;
                while let Some(chunk) = response.chunk().await.map_err(err)? {
                    received += chunk.len() as u64;
                }
                checked_len(job, received)
            })
            .await
        })
    }
}
