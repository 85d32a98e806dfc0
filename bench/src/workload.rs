//! The workloads: what each one asks of a client, against which server, measured how.
//!
//! Plain-HTTP workloads are W1 to W6; their TLS counterparts are T-numbered after the plain one
//! they mirror (T1 keep-alive GET, T2 concurrency, T3 download, T5 a new connection per
//! request). Request counts are per round; `--quick` divides them by [`QUICK_DIVISOR`] and
//! `--scale N` multiplies them by N (see [`Size`]).

use bytes::Bytes;

use crate::client::Job;
use crate::servers::{KIB16, MIB1, TINY, TINY_BODY, big};

/// `--quick` runs this many times fewer requests per round (and fewer rounds).
pub const QUICK_DIVISOR: usize = 5;

/// How many requests a round makes, against each workload's own count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// `--quick`: a [`QUICK_DIVISOR`]th of the requests.
    pub quick: bool,
    /// `--scale N`: N times the requests, so that a round of a fast workload (W1 takes about
    /// 0.1 s, W5 0.07 s) lasts long enough that a pause of the VM's scheduler is a small part
    /// of it. 1 by default.
    pub scale: usize,
}

impl Size {
    /// The workloads' own counts.
    pub const FULL: Size = Size {
        quick: false,
        scale: 1,
    };

    /// The requests per worker a round makes of a workload whose own count is `per_worker`.
    fn per_worker(self, per_worker: usize) -> usize {
        let scaled = per_worker.saturating_mul(self.scale.max(1));
        if self.quick {
            (scaled / QUICK_DIVISOR).max(1)
        } else {
            scaled
        }
    }

    /// What the report says about it, after the rounds.
    pub fn note(self) -> String {
        match (self.quick, self.scale.max(1)) {
            (false, 1) => String::new(),
            (true, 1) => " (--quick: a fifth of the requests)".into(),
            (false, n) => format!(" (--scale {n}: {n} times the requests)"),
            (true, n) => format!(" (--quick --scale {n}: {n} fifths of the requests)"),
        }
    }
}

/// The size of W4's upload.
pub const UPLOAD_LEN: usize = 16 * 1024 * 1024;

/// Which server a workload talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Plain,
    Tls,
    Sink,
}

/// What a workload reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Requests per second; higher is better.
    Requests,
    /// Megabytes (10^6 bytes) of body per second; higher is better.
    Megabytes,
    /// Growth of the peak resident set while running, in KiB; lower is better. Each sample is
    /// taken in a fresh process.
    RssGrowth,
}

impl Metric {
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Requests => "req/s",
            Metric::Megabytes => "MB/s",
            Metric::RssGrowth => "KiB peak RSS growth",
        }
    }

    pub fn higher_is_better(self) -> bool {
        self != Metric::RssGrowth
    }
}

#[derive(Debug, Clone)]
pub struct Workload {
    /// What `--filter` matches and the tables show, e.g. `W1/13B`.
    pub id: &'static str,
    pub title: &'static str,
    pub server: Server,
    pub metric: Metric,
    path: String,
    expect_len: u64,
    upload: bool,
    fresh_connections: bool,
    resumption: bool,
    workers: usize,
    per_worker: usize,
    /// Whether system calls per request are counted under strace.
    pub syscalls: bool,
}

impl Workload {
    /// The job for one round.
    pub fn job(&self, size: Size, upload: &Bytes) -> Job {
        let per_worker = size.per_worker(self.per_worker);
        Job {
            path: self.path.clone(),
            upload: self.upload.then(|| upload.clone()),
            fresh_connections: self.fresh_connections,
            resumption: self.resumption,
            workers: self.workers,
            per_worker,
            expect_len: self.expect_len,
        }
    }

    /// Whether the workload sends a request body.
    pub fn uploads(&self) -> bool {
        self.upload
    }

    /// A one-line description of a round: how many exchanges of what.
    pub fn shape(&self, size: Size) -> String {
        let job = self.job(size, &Bytes::new());
        let requests = match job.per_worker {
            1 => "1 request".to_string(),
            n => format!("{n} requests"),
        };
        let per = match self.workers {
            1 => requests,
            n => format!("{n} workers × {requests}"),
        };
        format!("{per} per round")
    }

    /// Whether `--filter` selects this workload: each comma-separated entry is a prefix of the
    /// id, case-insensitively (`W1` selects all three W1 sizes, `T` every TLS workload).
    pub fn selected(&self, filter: Option<&str>) -> bool {
        filter.is_none_or(|filter| {
            filter.split(',').map(str::trim).any(|prefix| {
                !prefix.is_empty()
                    && self
                        .id
                        .to_ascii_lowercase()
                        .starts_with(&prefix.to_ascii_lowercase())
            })
        })
    }
}

struct Spec {
    id: &'static str,
    title: &'static str,
    server: Server,
    metric: Metric,
    path: String,
    expect_len: u64,
    workers: usize,
    per_worker: usize,
}

impl Spec {
    fn keep_alive(self) -> Workload {
        Workload {
            id: self.id,
            title: self.title,
            server: self.server,
            metric: self.metric,
            path: self.path,
            expect_len: self.expect_len,
            upload: false,
            fresh_connections: false,
            resumption: true,
            workers: self.workers,
            per_worker: self.per_worker,
            syscalls: false,
        }
    }
}

/// Every workload, in the order they run and print.
pub fn all() -> Vec<Workload> {
    use Metric::*;
    use Server::*;
    let tiny = || (TINY.to_string(), TINY_BODY.len() as u64);
    let get =
        |id, title, server, metric, (path, expect_len): (String, u64), workers, per_worker| {
            Spec {
                id,
                title,
                server,
                metric,
                path,
                expect_len,
                workers,
                per_worker,
            }
            .keep_alive()
        };
    let big = (big(), wayfarer_tests::nginx::BIG_BIN_LEN);
    vec![
        Workload {
            syscalls: true,
            ..get(
                "W1/13B",
                "sequential keep-alive GET, 13 B body",
                Plain,
                Requests,
                tiny(),
                1,
                4000,
            )
        },
        Workload {
            syscalls: true,
            ..get(
                "W1/16KiB",
                "sequential keep-alive GET, 16 KiB body",
                Plain,
                Requests,
                (KIB16.to_string(), 16 * 1024),
                1,
                3000,
            )
        },
        Workload {
            syscalls: true,
            ..get(
                "W1/1MiB",
                "sequential keep-alive GET, 1 MiB body",
                Plain,
                Requests,
                (MIB1.to_string(), 1024 * 1024),
                1,
                300,
            )
        },
        get(
            "W2/16",
            "16 concurrent keep-alive GETs, 13 B body",
            Plain,
            Requests,
            tiny(),
            16,
            250,
        ),
        get(
            "W2/64",
            "64 concurrent keep-alive GETs, 13 B body",
            Plain,
            Requests,
            tiny(),
            64,
            60,
        ),
        get("W3", "64 MiB download", Plain, Megabytes, big.clone(), 1, 3),
        Workload {
            upload: true,
            ..get(
                "W4",
                "16 MiB upload (POST to the sink)",
                Sink,
                Megabytes,
                ("/upload".to_string(), 0),
                1,
                8,
            )
        },
        Workload {
            fresh_connections: true,
            syscalls: true,
            ..get(
                "W5",
                "a new connection per request (GET 13 B)",
                Plain,
                Requests,
                tiny(),
                1,
                1000,
            )
        },
        get(
            "W6",
            "peak RSS growth, 64 concurrent connections (4 GETs of 1 MiB each)",
            Plain,
            RssGrowth,
            (MIB1.to_string(), 1024 * 1024),
            64,
            4,
        ),
        get(
            "T1",
            "TLS: sequential keep-alive GET, 13 B body",
            Tls,
            Requests,
            tiny(),
            1,
            3000,
        ),
        get(
            "T2/64",
            "TLS: 64 concurrent keep-alive GETs, 13 B body",
            Tls,
            Requests,
            tiny(),
            64,
            40,
        ),
        get("T3", "TLS: 64 MiB download", Tls, Megabytes, big, 1, 2),
        Workload {
            fresh_connections: true,
            ..get(
                "T5/resumed",
                "TLS: a new connection per request, session resumption on",
                Tls,
                Requests,
                tiny(),
                1,
                300,
            )
        },
        Workload {
            fresh_connections: true,
            resumption: false,
            ..get(
                "T5/full",
                "TLS: a new connection per request, full handshake every time",
                Tls,
                Requests,
                tiny(),
                1,
                200,
            )
        },
    ]
}

/// The workload with this exact id.
pub fn by_id(id: &str) -> Option<Workload> {
    all().into_iter().find(|w| w.id == id)
}

/// The body of W4's upload: pseudo-random, so nothing on the way can compress it.
pub fn upload_body() -> Bytes {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut body = Vec::with_capacity(UPLOAD_LEN);
    while body.len() < UPLOAD_LEN {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        body.extend_from_slice(&state.to_le_bytes());
    }
    Bytes::from(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_filters_select_by_prefix() {
        let all = all();
        let mut ids: Vec<_> = all.iter().map(|w| w.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        let picked = |filter| {
            all.iter()
                .filter(|w| w.selected(Some(filter)))
                .map(|w| w.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(picked("W1"), ["W1/13B", "W1/16KiB", "W1/1MiB"]);
        assert_eq!(picked("w3, t5/full"), ["W3", "T5/full"]);
        assert!(picked("").is_empty());
        assert_eq!(all.iter().filter(|w| w.selected(None)).count(), all.len());
    }

    #[test]
    fn quick_jobs_are_smaller_but_never_empty_and_scaled_ones_larger() {
        let quick = Size {
            quick: true,
            scale: 1,
        };
        let scaled = Size {
            quick: false,
            scale: 5,
        };
        for workload in all() {
            let full = workload.job(Size::FULL, &Bytes::new());
            let small = workload.job(quick, &Bytes::new());
            assert!(small.per_worker >= 1 && small.per_worker <= full.per_worker);
            assert_eq!(small.workers, full.workers);
            let large = workload.job(scaled, &Bytes::new());
            assert_eq!(large.per_worker, full.per_worker * 5);
            assert_eq!(large.workers, full.workers);
        }
        assert_eq!(Size::FULL.note(), "");
        assert_eq!(scaled.note(), " (--scale 5: 5 times the requests)");
        assert_eq!(upload_body().len(), UPLOAD_LEN);
    }
}
