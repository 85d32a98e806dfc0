//! Interop with a real server: a private nginx (started by the test, as the current user, on a
//! free loopback port) serving static files with keep-alive, over plain HTTP and over HTTPS with
//! a test-generated certificate. Each runtime fetches a small file and a 64 MiB file on one
//! client and compares every byte with the file on disk, streaming (nothing is held whole).
//!
//! These tests fail, never skip, when nginx is missing or cannot start: `.ci/run` installs it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use wayfarer_core::{Certificate, Config};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::nginx::{BIG, BIG_BIN_LEN, Nginx, NginxOptions, SMALL, SMALL_TXT};
use wayfarer_tests::run::Runtime;

/// Compares streamed chunks with a file, without reading either whole.
struct SameAsFile {
    file: BufReader<File>,
    seen: u64,
    mismatch: Option<u64>,
    scratch: Vec<u8>,
}

impl SameAsFile {
    fn new(path: &Path) -> SameAsFile {
        let file = File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        SameAsFile {
            file: BufReader::with_capacity(1 << 20, file),
            seen: 0,
            mismatch: None,
            scratch: Vec::new(),
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        self.scratch.resize(chunk.len(), 0);
        let read = self.file.read(&mut self.scratch[..]).unwrap_or(0);
        let mut filled = read;
        while filled < chunk.len() {
            match self.file.read(&mut self.scratch[filled..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        if self.mismatch.is_none()
            && (filled < chunk.len() || self.scratch[..chunk.len()] != *chunk)
        {
            self.mismatch = Some(self.seen);
        }
        self.seen += chunk.len() as u64;
    }
}

fn fetch_and_compare(nginx: &Nginx, config: Config, runtime: Runtime) {
    let urls = [nginx.url(SMALL), nginx.url(BIG), nginx.url(SMALL)];
    let mut small = Vec::new();
    let mut small_again = Vec::new();
    let mut big = SameAsFile::new(&nginx.root().join(BIG));
    let results = runtime.fetch_each(config, &urls, |i, chunk| match i {
        0 => small.extend_from_slice(chunk),
        1 => big.feed(chunk),
        _ => small_again.extend_from_slice(chunk),
    });
    for (url, result) in urls.iter().zip(&results) {
        assert!(
            matches!(result, Ok(200)),
            "{runtime:?} {url}: {result:?}\nnginx log:\n{}",
            nginx.error_log()
        );
    }
    assert_eq!(small, SMALL_TXT, "{runtime:?}: small.txt");
    assert_eq!(
        small_again, SMALL_TXT,
        "{runtime:?}: small.txt after the big file, on the reused connection"
    );
    assert_eq!(big.seen, BIG_BIN_LEN, "{runtime:?}: big.bin length");
    assert_eq!(
        big.mismatch, None,
        "{runtime:?}: big.bin differs from the file at this offset"
    );
}

#[test]
fn plain_http_small_and_64_mib_files_on_every_runtime() {
    let nginx = Nginx::start(NginxOptions::default())
        .expect("nginx must start (install the `nginx` package)");
    for runtime in Runtime::ALL {
        fetch_and_compare(&nginx, Config::default(), runtime);
    }
}

#[test]
fn https_small_and_64_mib_files_on_every_runtime() {
    let pki = TestPki::generate();
    let options = NginxOptions {
        tls: Some(pki.leaf_pem(Leaf::Valid)),
    };
    let nginx =
        Nginx::start(options).expect("nginx must start with TLS (install the `nginx` package)");
    let config = || {
        Config::builder()
            .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
            .build()
            .expect("config")
    };
    for runtime in Runtime::ALL {
        fetch_and_compare(&nginx, config(), runtime);
    }
}
