//! ureq 3 (blocking), one thread per concurrent request, with rustls on ring.

use std::sync::Arc;

use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

use crate::client::{
    About, ClientUnderTest, Family, Job, POOL_SIZE, ReadBuffer, Sample, Style, Target,
    check_status, checked_len, drain, err, run_threads,
};
use crate::tls::RUSTLS_RING;

#[derive(Debug)]
pub struct Ureq;

impl ClientUnderTest for Ureq {
    fn about(&self) -> About {
        About {
            name: "ureq",
            family: Family::Peer,
            style: Style::Blocking,
        }
    }

    fn tls_provider(&self) -> String {
        format!("{RUSTLS_RING} (ureq's own configuration)")
    }

    fn unsupported(&self, job: &Job) -> Option<&'static str> {
        // ureq builds its own rustls configuration, which keeps rustls's default session cache.
        (!job.resumption).then_some("ureq has no setting to turn TLS session resumption off")
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        let mut config = ureq::Agent::config_builder()
            .max_idle_connections(POOL_SIZE)
            .max_idle_connections_per_host(POOL_SIZE);
        if let Some(trust) = &target.tls {
            let ca = Certificate::from_der(&trust.ca_der).to_owned();
            config = config.tls_config(
                TlsConfig::builder()
                    .provider(TlsProvider::Rustls)
                    .root_certs(RootCerts::Specific(Arc::new(vec![ca])))
                    .build(),
            );
        }
        let agent: ureq::Agent = config.build().into();
        let url = target.url(&job.path);
        run_threads(job, |buf: &mut ReadBuffer| {
            let sent = match &job.upload {
                Some(body) => {
                    let mut request = agent.post(&url);
                    if job.fresh_connections {
                        request = request.header("Connection", "close");
                    }
                    request.send(&body[..])
                }
                None => {
                    let mut request = agent.get(&url);
                    if job.fresh_connections {
                        request = request.header("Connection", "close");
                    }
                    request.call()
                }
            };
            let mut response = sent.map_err(err)?;
            check_status(response.status().as_u16())?;
            checked_len(
                job,
                drain(response.body_mut().as_reader(), buf).map_err(err)?,
            )
        })
    }
}
