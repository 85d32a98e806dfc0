//! libcurl through the `curl` crate: one easy handle per worker thread (a handle keeps its own
//! connection and TLS session cache), TLS from the system libcurl's OpenSSL.

use bytes::Bytes;
use curl::easy::{Easy2, Handler, List, ReadError, WriteError};

use crate::client::{
    About, ClientUnderTest, Family, Job, Sample, Style, Target, check_status, checked_len, err,
    run_threads,
};

#[derive(Debug)]
pub struct Curl;

/// Counts the response body and serves the request body.
struct Transfer {
    received: u64,
    upload: Option<Bytes>,
    sent: usize,
}

impl Handler for Transfer {
    fn write(&mut self, data: &[u8]) -> Result<usize, WriteError> {
        self.received += data.len() as u64;
        Ok(data.len())
    }

    fn read(&mut self, into: &mut [u8]) -> Result<usize, ReadError> {
        let Some(body) = &self.upload else {
            return Ok(0);
        };
        let n = into.len().min(body.len() - self.sent);
        into[..n].copy_from_slice(&body[self.sent..self.sent + n]);
        self.sent += n;
        Ok(n)
    }
}

fn handle(target: &Target, job: &Job) -> Result<Easy2<Transfer>, curl::Error> {
    let mut easy = Easy2::new(Transfer {
        received: 0,
        upload: job.upload.clone(),
        sent: 0,
    });
    easy.url(&target.url(&job.path))?;
    easy.tcp_nodelay(true)?;
    if let Some(trust) = &target.tls {
        easy.cainfo(&trust.ca_pem_file)?;
        easy.ssl_sessionid_cache(job.resumption)?;
    }
    if job.fresh_connections {
        let mut headers = List::new();
        headers.append("Connection: close")?;
        easy.http_headers(headers)?;
    }
    if let Some(body) = &job.upload {
        easy.post(true)?;
        easy.post_field_size(body.len() as u64)?;
    }
    Ok(easy)
}

impl ClientUnderTest for Curl {
    fn about(&self) -> About {
        About {
            name: "curl",
            family: Family::Peer,
            style: Style::Blocking,
        }
    }

    fn tls_provider(&self) -> String {
        let version = curl::Version::get();
        format!(
            "{} (system libcurl {})",
            version.ssl_version().unwrap_or("no TLS"),
            version.version()
        )
    }

    fn run(&self, target: &Target, job: &Job) -> Result<Sample, String> {
        run_threads(job, |state: &mut Option<Easy2<Transfer>>| {
            let easy = match state {
                Some(easy) => easy,
                None => state.insert(handle(target, job).map_err(err)?),
            };
            let transfer = easy.get_mut();
            (transfer.received, transfer.sent) = (0, 0);
            easy.perform().map_err(err)?;
            check_status(easy.response_code().map_err(err)? as u16)?;
            checked_len(job, easy.get_ref().received)
        })
    }
}
