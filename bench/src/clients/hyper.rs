//! hyper-util's legacy pooled client (hyper 1, HTTP/1.1) on a single-threaded tokio runtime,
//! with hyper-rustls on ring for HTTPS and the plain `HttpConnector` for HTTP.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;

use crate::client::{
    About, ClientUnderTest, Family, Job, POOL_SIZE, Sample, Style, Target, check_status,
    checked_len, err, run_tasks, tokio_runtime,
};
use crate::tls;

#[derive(Debug)]
pub struct Hyper;

impl ClientUnderTest for Hyper {
    fn about(&self) -> About {
        About {
            name: "hyper-util",
            family: Family::Peer,
            style: Style::Async,
        }
    }

    fn tls_provider(&self) -> String {
        format!("{} (hyper-rustls)", tls::RUSTLS_RING)
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        tokio_runtime()?.block_on(async {
            let mut http = HttpConnector::new();
            http.set_nodelay(true);
            match &target.tls {
                None => drive(http, target, job).await,
                Some(trust) => {
                    http.enforce_http(false);
                    // hyper-rustls sets ALPN itself (to http/1.1 here) and refuses a
                    // configuration that already has it.
                    let mut config = tls::client_config(trust, job.resumption)?;
                    config.alpn_protocols.clear();
                    let https = hyper_rustls::HttpsConnectorBuilder::new()
                        .with_tls_config(config)
                        .https_only()
                        .enable_http1()
                        .wrap_connector(http);
                    drive(https, target, job).await
                }
            }
        })
    }
}

async fn drive<C>(connector: C, target: &Target, job: &Job) -> Result<Sample, String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client: Client<C, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(POOL_SIZE)
        .build(connector);
    let url = target.url(&job.path);
    run_tasks(job, async |_: &mut ()| {
        let mut request = hyper::Request::builder().uri(url.as_str());
        if job.fresh_connections {
            request = request.header("Connection", "close");
        }
        let request = match &job.upload {
            Some(body) => request.method("POST").body(Full::new(body.clone())),
            None => request.body(Full::new(Bytes::new())),
        }
        .map_err(err)?;
        let response = client.request(request).await.map_err(err)?;
        check_status(response.status().as_u16())?;
        let mut body = response.into_body();
        let mut received = 0;
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame.map_err(err)?.data_ref() {
                received += data.len() as u64;
            }
        }
        checked_len(job, received)
    })
    .await
}
