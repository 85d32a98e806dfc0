//! The fuzzed call's setup: how the input's first bytes become the client's settings and the
//! caller's request, and how the rest is read.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::SETUP_BYTES;
use crate::cookies::MemoryCookieJar;
use crate::{BasicAuthenticator, Body, Config, Error, Request};

/// `input` cut at each `separator`.
pub(super) fn split<'a>(input: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = input;
    while let Some(i) = rest.windows(separator.len()).position(|w| w == separator) {
        parts.push(&rest[..i]);
        rest = &rest[i + separator.len()..];
    }
    parts.push(rest);
    parts
}

/// The script's bytes, read one at a time; past the end, every byte is 0 (the plain answer).
pub(super) struct Script<'a>(pub(super) &'a [u8]);

impl Script<'_> {
    pub(super) fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A timeout chosen by one byte: 0 keeps `default`.
pub(super) fn timeout(b: u8, default: Option<Duration>) -> Option<Duration> {
    const CHOICES: [Option<u64>; 9] = [
        None,
        Some(1),
        Some(10),
        Some(100),
        Some(250),
        Some(1_000),
        Some(3_000),
        Some(10_000),
        Some(60_000),
    ];
    if b == 0 {
        return default;
    }
    CHOICES[usize::from(b) % CHOICES.len()].map(Duration::from_millis)
}

/// How long a step of the clock is, chosen by five bits. 0 is no step.
pub(super) fn step_duration(b: u8) -> Duration {
    const MS: [u64; 18] = [
        0, 0, 1, 10, 99, 100, 101, 500, 999, 1_000, 5_000, 10_000, 10_001, 30_000, 60_000, 300_000,
        300_001, 3_600_000,
    ];
    let ms = MS.get(usize::from(b)).copied().unwrap_or(u64::from(b) * 37);
    Duration::from_millis(ms)
}

/// The configuration, the request and the caller's behaviour, from the script's first
/// [`SETUP_BYTES`] bytes (zeros give the defaults and a GET of `http://a.test/`):
///
/// | byte | chooses |
/// |---|---|
/// | 0 | flags: 1 no redirects, 2 no gzip, 4 no retries, 8 no `https`/`http` redirects, 16 and 128 a second and third call on the same client, 32 an authenticator, 64 a cookie jar |
/// | 1-4 | connect, read, write and call timeouts |
/// | 5 | the `100 Continue` timeout |
/// | 6 | most follow-ups |
/// | 7-11 | the response limits: head bytes, header fields, interim responses, chunk-size line, trailer bytes |
/// | 12 | most decompressed bytes |
/// | 13, 14 | idle connections kept, and for how long |
/// | 15 | method and body |
/// | 16 | URL |
/// | 17 | request headers |
/// | 18 | the caller's buffer size |
/// | 19 | how much of the body the caller reads (0: all), and whether it then discards the rest or drops the call |
pub(super) struct Setup {
    pub(super) config: Config,
    pub(super) calls: usize,
    pub(super) method: u8,
    pub(super) url: u8,
    pub(super) headers: u8,
    pub(super) buf: usize,
    pub(super) read_limit: Option<usize>,
    pub(super) discard: bool,
}

impl Setup {
    pub(super) fn read(script: &mut Script<'_>) -> Setup {
        let mut b = [0u8; SETUP_BYTES];
        for byte in &mut b {
            *byte = script.next();
        }
        let mut config = super::super::base_config().clone();
        // A fresh route database: failures remembered from another input would change this one.
        config.routing = crate::proxy::routing::build(config.routing);
        let flags = b[0];
        config.follow_redirects = flags & 1 == 0;
        config.transparent_gzip = flags & 2 == 0;
        config.retry_on_connection_failure = flags & 4 == 0;
        config.follow_ssl_redirects = flags & 8 == 0;
        if flags & 32 != 0 {
            config.authenticator = Some(Arc::new(BasicAuthenticator::new("user", "pass")));
        }
        if flags & 64 != 0 {
            config.cookie_jar = Some(Arc::new(MemoryCookieJar::new()));
        }
        config.connect_timeout = timeout(b[1], config.connect_timeout);
        config.read_timeout = timeout(b[2], config.read_timeout);
        config.write_timeout = timeout(b[3], config.write_timeout);
        config.call_timeout = timeout(b[4], None);
        config.expect_continue_timeout =
            timeout(b[5], Some(config.expect_continue_timeout)).unwrap_or(Duration::ZERO);
        if b[6] != 0 {
            config.max_follow_ups = u32::from(b[6]) % 25;
        }
        let limits = &mut config.limits;
        if b[7] != 0 {
            const HEAD: [usize; 7] = [64, 100, 256, 1024, 4096, 16384, 65536];
            limits.max_head_bytes = HEAD[usize::from(b[7]) % HEAD.len()];
        }
        if b[8] != 0 {
            limits.max_headers = Some(usize::from(b[8]) % 40);
        }
        if b[9] != 0 {
            limits.max_interim_responses = usize::from(b[9]) % 20;
        }
        if b[10] != 0 {
            limits.max_chunk_extension_bytes = usize::from(b[10]) % 64;
        }
        if b[11] != 0 {
            limits.max_trailer_bytes = usize::from(b[11]) * 8;
        }
        config.max_decompressed_bytes = match b[12] {
            0 => config.max_decompressed_bytes,
            255 => None,
            n => Some(1 << (n % 24)),
        };
        if b[13] != 0 {
            config.max_idle_connections = usize::from(b[13]) % 4;
        }
        if b[14] != 0 {
            const KEEP: [u64; 5] = [1, 100, 1_000, 10_000, 60_000];
            config.keep_alive = Duration::from_millis(KEEP[usize::from(b[14]) % KEEP.len()]);
        }
        const BUF: [usize; 6] = [8192, 1, 7, 61, 512, 65536];
        Setup {
            config,
            calls: 1 + usize::from(flags & 16 != 0) + usize::from(flags & 128 != 0),
            method: b[15],
            url: b[16],
            headers: b[17],
            buf: BUF[usize::from(b[18]) % BUF.len()],
            read_limit: (b[19] != 0).then(|| usize::from(b[19] >> 1) * 97),
            discard: b[19] & 1 == 1,
        }
    }

    /// A fresh copy of the request (each call takes its own, bodies included).
    pub(super) fn request(&self) -> Result<Request, Error> {
        // A TLS handshake costs more than the rest of a run and cannot succeed with bytes the
        // fuzzer makes up, so `https` is one value out of 256.
        const URLS: [&str; 4] = [
            "http://a.test/p?q=1#f",
            "http://127.0.0.1:8080/",
            "http://[::1]:8080/x",
            "http://a.test:8080/",
        ];
        let url = match self.url {
            2 => "https://a.test/",
            n => URLS[usize::from(n) % URLS.len()],
        };
        let reader = |len: Option<u64>| Body::from_reader(io::Cursor::new(b"x=1".to_vec()), len);
        let builder = match self.method % 10 {
            0 => Request::get(url),
            1 => Request::head(url),
            2 => Request::post(url).body("x=1"),
            3 => Request::put(url).body("x=1"),
            4 => Request::post(url).body(reader(None)),
            5 => Request::post(url).body(reader(Some(3))),
            6 => Request::post(url).body(reader(Some(4))),
            7 => Request::delete(url),
            8 => Request::post(url)
                .header("Expect", "100-continue")
                .body("x=1"),
            _ => Request::post(url).body(Body::repeatable(Some(3), || {
                Ok(Body::from_bytes(&b"x=1"[..]))
            })),
        };
        let h = self.headers;
        let mut builder = builder;
        for (bit, name, value) in [
            (1, "Accept-Encoding", "identity"),
            (2, "Range", "bytes=0-"),
            (4, "Connection", "close"),
            (8, "Authorization", "Bearer t"),
            (16, "Accept-Encoding", "gzip"),
            (64, "Cookie", "a=b"),
        ] {
            if h & bit != 0 {
                builder = builder.header(name, value);
            }
        }
        if h & 32 != 0 {
            builder = builder.idempotent(h & 128 != 0);
        }
        builder.build()
    }
}
