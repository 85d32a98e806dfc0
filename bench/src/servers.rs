//! The servers every run talks to: nginx over plain HTTP and over TLS (the integration tests'
//! harness, each a private instance on its own port), and the upload sink.
//!
//! Both nginx instances serve the harness's `big.bin` (64 MiB) plus the files written here.
//! The TLS instance presents a `localhost` certificate from a CA made for this run by the
//! tests' rcgen PKI; every client is given that CA and verifies the server against it.

use std::fs;
use std::path::Path;

use tempfile::TempDir;
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::nginx::{BIG, Nginx, NginxOptions};

use crate::client::{Target, Trust};
use crate::sink::Sink;

/// The document files the workloads fetch, besides the harness's own.
pub const TINY: &str = "/tiny.txt";
pub const KIB16: &str = "/16k.bin";
pub const MIB1: &str = "/1m.bin";

/// The 13-byte body of [`TINY`].
pub const TINY_BODY: &[u8] = b"Hello, world!";

/// The path of the harness's 64 MiB file.
pub fn big() -> String {
    format!("/{BIG}")
}

/// The running servers; dropping this stops them.
#[derive(Debug)]
pub struct Servers {
    plain: Nginx,
    tls: Nginx,
    sink: Sink,
    trust: Trust,
    /// Holds the CA's PEM file for libcurl.
    _ca_dir: TempDir,
}

impl Servers {
    /// Starts both nginx instances and the sink, and writes the document files.
    pub fn start() -> Result<Servers, String> {
        let pki = TestPki::generate();
        let ca_dir = tempfile::Builder::new()
            .prefix("wayfarer-bench-ca-")
            .tempdir()
            .map_err(|e| format!("cannot create a directory for the CA: {e}"))?;
        let ca_pem_file = ca_dir.path().join("ca.pem");
        fs::write(&ca_pem_file, pki.ca_pem())
            .map_err(|e| format!("cannot write {}: {e}", ca_pem_file.display()))?;

        let plain = Nginx::start(NginxOptions::default())?;
        let tls = Nginx::start(NginxOptions {
            tls: Some(pki.leaf_pem(Leaf::Valid)),
        })?;
        for nginx in [&plain, &tls] {
            write_documents(nginx.root())
                .map_err(|e| format!("cannot write nginx's documents: {e}"))?;
        }
        let sink = Sink::start()?;
        Ok(Servers {
            plain,
            tls,
            sink,
            trust: Trust {
                ca_der: pki.ca_der().to_vec(),
                ca_pem_file,
                server_name: "localhost",
            },
            _ca_dir: ca_dir,
        })
    }

    pub fn plain(&self) -> Target {
        Target {
            base: self.plain.url("").trim_end_matches('/').to_string(),
            addr: self.plain.addr(),
            tls: None,
        }
    }

    pub fn tls(&self) -> Target {
        Target {
            base: self.tls.url("").trim_end_matches('/').to_string(),
            addr: self.tls.addr(),
            tls: Some(self.trust.clone()),
        }
    }

    /// The CA's PEM file (for probes started by hand).
    pub fn ca_pem_file(&self) -> &Path {
        &self.trust.ca_pem_file
    }

    pub fn sink(&self) -> Target {
        Target {
            base: format!("http://{}", self.sink.addr()),
            addr: self.sink.addr(),
            tls: None,
        }
    }
}

/// The target for a plain-HTTP base URL of the form `http://IP:PORT`, as handed to a probe.
pub fn plain_target(base: &str) -> Result<Target, String> {
    let addr = base
        .strip_prefix("http://")
        .and_then(|authority| authority.trim_end_matches('/').parse().ok())
        .ok_or_else(|| format!("not an http://IP:PORT URL: {base}"))?;
    Ok(Target {
        base: base.trim_end_matches('/').to_string(),
        addr,
        tls: None,
    })
}

/// The target for an HTTPS base URL of the form `https://localhost:PORT` whose certificate
/// `ca_pem_file` signed, as handed to a probe (`internal serve` prints both).
pub fn tls_target(base: &str, ca_pem_file: &Path) -> Result<Target, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let port: u16 = base
        .strip_prefix("https://localhost:")
        .and_then(|port| port.trim_end_matches('/').parse().ok())
        .ok_or_else(|| format!("not an https://localhost:PORT URL: {base}"))?;
    let ca = CertificateDer::from_pem_file(ca_pem_file).map_err(|e| {
        format!(
            "cannot read a certificate from {}: {e}",
            ca_pem_file.display()
        )
    })?;
    Ok(Target {
        base: base.trim_end_matches('/').to_string(),
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        tls: Some(Trust {
            ca_der: ca.to_vec(),
            ca_pem_file: ca_pem_file.to_path_buf(),
            server_name: "localhost",
        }),
    })
}

fn write_documents(root: &Path) -> std::io::Result<()> {
    let pattern = |len: usize| (0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    fs::write(root.join(TINY.trim_start_matches('/')), TINY_BODY)?;
    fs::write(root.join(KIB16.trim_start_matches('/')), pattern(16 * 1024))?;
    fs::write(
        root.join(MIB1.trim_start_matches('/')),
        pattern(1024 * 1024),
    )
}
