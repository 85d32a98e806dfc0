//! The fault-injection soak: many requests against an origin that answers some of them with
//! faults, on all three runtimes at once-ish, checking that every call ends as its case says and
//! that nothing leaks.
//!
//! Each request is a [`Case`](case::Case) derived from `(seed, id)`: a method (GET, HEAD, POST
//! with an upload of one of three kinds), zero to three redirects, a final answer (a normal
//! response framed by length, chunks, close, gzip, a slow drip...; or a fault: a reset, an early
//! close, a truncated body, a stall past the read timeout, a garbage head) and how the client
//! reads the body (whole, not at all, part of it). The [`FaultOrigin`](origin::FaultOrigin)
//! derives the same case from the id in the request path and plays it.
//!
//! Checked for every call: it ends with the response the case describes (status and every byte
//! of the body read, which names the case it belongs to, so bytes meant for another request
//! are caught) or with a typed error of the kind the fault implies (a reset before the head is
//! `Io`, a garbage head `Protocol`, a stall a read `Timeout`), and no call runs long (a
//! watchdog aborts the process on a hung one). Checked around the run: after a warm-up and at
//! the end, with the pools evicted, the origin sees every connection closed, the process has
//! the same open descriptors and threads, no task is left on either executor, and the live heap
//! and the resident set have not grown past their limits.
//!
//! `tests/tests/soak.rs` runs it; `tests/SOAK.md` says how to run the long version and records
//! its results.

pub mod call;
pub mod case;
pub mod origin;
pub mod remote;
pub mod runners;
pub mod tally;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::run::Runtime;
use call::Target;
use origin::OriginStats;
use remote::Origin;
use runners::Runners;
use tally::Tally;

/// The seed when `WAYFARER_SOAK_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x50AC_2026;
/// The number of requests when `WAYFARER_SOAK_REQUESTS` is not set: the size CI runs.
pub const DEFAULT_REQUESTS: u64 = 20_000;
/// How many bytes the live heap may grow between the warm-up and the end. The heap is counted
/// exactly, so this is the leak check that matters: at 20,000 requests a leak of 14 bytes a
/// call fails it, at 1,000,000 a leak of one byte in four calls.
pub const HEAP_GROWTH_LIMIT: u64 = 256 * 1024;
/// How many KiB the anonymous resident set may grow between the warm-up and the end. It is the
/// coarse net for memory the counted heap does not see (stacks, mappings); glibc's arenas drift
/// by a few MiB as they fragment over a long run even when the live heap is flat, so the limit
/// is absolute and generous.
pub const RSS_GROWTH_LIMIT_KIB: u64 = 8 * 1024;
/// A call that takes longer than this is reported, though it ended as its case says: the
/// slowest case (a stall) takes the read timeout, a slow drip well under a second.
pub const SLOW_CALL_LIMIT: Duration = Duration::from_secs(10);

/// How big a soak to run and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Requests in all, split evenly over the three runtimes (warm-up included).
    pub requests: u64,
    /// Every case derives from it.
    pub seed: u64,
    /// Calls in flight at once on each async runtime.
    pub concurrency: usize,
    /// Threads making blocking calls.
    pub threads: usize,
    /// The clients' read timeout: what a stall costs.
    pub read_timeout: Duration,
    /// Requests per runtime before the baseline is measured.
    pub warmup: u64,
    /// Print a line every tenth of each runtime's run.
    pub progress: bool,
    /// The runtimes to soak, in order; the requests are split evenly between them.
    pub runtimes: Vec<Runtime>,
    /// The `soak_origin` binary, to run the origin in a child process (else it runs on threads
    /// of this one, and its memory and descriptors count with the client's).
    pub origin_exe: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            requests: DEFAULT_REQUESTS,
            seed: DEFAULT_SEED,
            concurrency: 32,
            threads: 16,
            read_timeout: Duration::from_secs(1),
            warmup: 1000,
            progress: false,
            runtimes: Runtime::ALL.to_vec(),
            origin_exe: None,
        }
    }
}

impl Settings {
    /// The defaults, overridden by `WAYFARER_SOAK_REQUESTS`, `WAYFARER_SOAK_SEED` (decimal or
    /// `0x` hex), `WAYFARER_SOAK_CONCURRENCY`, `WAYFARER_SOAK_THREADS`,
    /// `WAYFARER_SOAK_READ_TIMEOUT_MS`, `WAYFARER_SOAK_WARMUP`, `WAYFARER_SOAK_PROGRESS=1` and
    /// `WAYFARER_SOAK_RUNTIMES` (a comma-separated subset of `blocking,tokio,smol`).
    pub fn from_env() -> Result<Settings, String> {
        fn var(name: &str) -> Option<String> {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty())
        }
        fn number(name: &str) -> Result<Option<u64>, String> {
            let Some(v) = var(name) else { return Ok(None) };
            let v = v.trim().replace('_', "");
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed
                .map(Some)
                .map_err(|e| format!("{name}={v:?} is not a number: {e}"))
        }
        let mut s = Settings::default();
        if let Some(n) = number("WAYFARER_SOAK_REQUESTS")? {
            s.requests = n;
        }
        if let Some(n) = number("WAYFARER_SOAK_SEED")? {
            s.seed = n;
        }
        if let Some(n) = number("WAYFARER_SOAK_CONCURRENCY")? {
            s.concurrency = (n as usize).max(1);
        }
        if let Some(n) = number("WAYFARER_SOAK_THREADS")? {
            s.threads = (n as usize).max(1);
        }
        if let Some(n) = number("WAYFARER_SOAK_READ_TIMEOUT_MS")? {
            s.read_timeout = Duration::from_millis(n.max(1));
        }
        if let Some(n) = number("WAYFARER_SOAK_WARMUP")? {
            s.warmup = n;
        }
        s.progress = var("WAYFARER_SOAK_PROGRESS").is_some_and(|v| v != "0");
        if let Some(list) = var("WAYFARER_SOAK_RUNTIMES") {
            s.runtimes = list
                .split(',')
                .map(|name| match name.trim() {
                    "blocking" => Ok(Runtime::Blocking),
                    "tokio" => Ok(Runtime::Tokio),
                    "smol" => Ok(Runtime::Smol),
                    other => Err(format!(
                        "WAYFARER_SOAK_RUNTIMES: unknown runtime {other:?} (blocking, tokio, smol)"
                    )),
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(s)
    }

    /// The client configuration every runtime uses: short timeouts so a stall costs little,
    /// a call timeout far beyond any case as a net for a hung call, and a pool large enough
    /// for the concurrency to reuse connections.
    pub fn client_config(&self) -> wayfarer_core::Config {
        wayfarer_core::Config::builder()
            .read_timeout(self.read_timeout)
            .connect_timeout(Duration::from_secs(2))
            .write_timeout(Duration::from_secs(2))
            .call_timeout(Duration::from_secs(30))
            .max_idle_connections(16)
            .keep_alive(Duration::from_secs(30))
            .build()
            .expect("the soak's client configuration")
    }
}

/// The process and pools at a quiet moment: every call done, every pool evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Idle pooled connections per runtime just before the eviction.
    pub idle_before_eviction: [usize; 3],
    /// Idle pooled connections per runtime after it.
    pub idle_after_eviction: [usize; 3],
    /// Connections the origin still had open a while after the eviction.
    pub origin_open: usize,
    /// Entries in `/proc/self/fd`.
    pub fds: usize,
    /// Entries in `/proc/self/task`: the process's threads.
    pub threads: usize,
    /// `VmRSS` of `/proc/self/status`, in KiB.
    pub rss_kib: u64,
    /// `RssAnon` of `/proc/self/status`, in KiB: the resident set without the pages of mapped
    /// files (the binary's code, touched as rarer paths first run).
    pub rss_anon_kib: u64,
    /// Bytes allocated and not freed, when the binary counts them ([`live_heap`]).
    pub heap_bytes: Option<u64>,
    /// Tasks alive on the tokio runtime.
    pub tokio_tasks: usize,
    /// Whether the smol executor has no task left.
    pub smol_empty: bool,
}

/// One runtime's part of the soak.
#[derive(Debug, Clone)]
pub struct RuntimeRun {
    /// Which runtime.
    pub runtime: Runtime,
    /// What its calls came to (warm-up and main run).
    pub tally: Tally,
    /// Time spent in its warm-up and main run.
    pub duration: Duration,
    /// Idle pooled connections when its main run ended (its pool is evicted then).
    pub idle_after_run: usize,
}

/// Everything a soak found.
#[derive(Debug, Clone)]
pub struct Report {
    /// What was run.
    pub settings: Settings,
    /// Per runtime.
    pub runs: Vec<RuntimeRun>,
    /// All runtimes together.
    pub total: Tally,
    /// After the warm-up.
    pub warm: Snapshot,
    /// At the end.
    pub end: Snapshot,
    /// What the origin saw.
    pub origin: OriginStats,
    /// Wall time of the whole soak.
    pub duration: Duration,
}

/// Runs the soak `settings` describes.
pub fn run(settings: &Settings) -> Result<Report, String> {
    let started = Instant::now();
    let origin = Origin::start(settings.seed, settings.origin_exe.as_deref())?;
    let target = Target {
        seed: settings.seed,
        main: origin.addr(case::Port::Main),
        idempotent: origin.addr(case::Port::Idempotent),
    };
    let runners = Runners::new(
        settings.client_config(),
        settings.threads,
        settings.concurrency,
        settings.progress,
    );

    // Each runtime gets a contiguous block of ids; the first part of each is its warm-up.
    let count = settings.runtimes.len().max(1) as u64;
    let per = settings.requests / count;
    let blocks: Vec<(u64, u64)> = (0..count)
        .map(|i| {
            let start = i * per;
            let end = if i == count - 1 {
                settings.requests
            } else {
                start + per
            };
            (start, end)
        })
        .collect();
    let warm_end = |(start, end): (u64, u64)| start + settings.warmup.min((end - start) / 2);

    let mut runs: Vec<RuntimeRun> = settings
        .runtimes
        .iter()
        .zip(&blocks)
        .map(|(&runtime, &block)| {
            let began = Instant::now();
            let tally = runners.run(runtime, block.0..warm_end(block), target);
            RuntimeRun {
                runtime,
                tally,
                duration: began.elapsed(),
                idle_after_run: 0,
            }
        })
        .collect();
    let warm = settle(&runners, &origin);

    for (run, &block) in runs.iter_mut().zip(&blocks) {
        let began = Instant::now();
        let tally = runners.run(run.runtime, warm_end(block)..block.1, target);
        run.tally.merge(tally);
        run.duration += began.elapsed();
        // The runtimes run a pool's cleanup only when a call uses the pool, so a client no one
        // calls keeps its idle connections past their keep-alive. While the other runtimes run
        // (minutes, in the long soak) the origin would see them idle for longer than it
        // allows; a client done with its share gives its connections up here.
        run.idle_after_run = runners.idle(run.runtime);
        runners.evict(run.runtime);
    }
    let end = settle(&runners, &origin);

    let mut total = Tally::default();
    for run in &runs {
        total.merge(run.tally.clone());
    }
    Ok(Report {
        settings: settings.clone(),
        runs,
        total,
        warm,
        end,
        origin: origin.stats(),
        duration: started.elapsed(),
    })
}

/// Evicts every pool, waits for the origin to see every connection closed, and measures.
fn settle(runners: &Runners, origin: &Origin) -> Snapshot {
    let idle_before_eviction = runners.idle_connections();
    runners.evict_all();
    let idle_after_eviction = runners.idle_connections();
    origin.wait_all_closed(Duration::from_secs(10));
    // An emptied pool's cleanup thread (blocking, and smol's) ends when it is woken, which
    // `evict_all` does; the snapshot must not race its last instructions.
    wait_for_no_pool_threads(Duration::from_secs(2));
    let (tokio_tasks, smol_empty) = runners.live_tasks();
    if let Some(hooks) = HEAP_HOOKS.get() {
        (hooks.release_free)();
    }
    Snapshot {
        idle_before_eviction,
        idle_after_eviction,
        origin_open: origin.stats().open,
        fds: open_fds(),
        threads: threads(),
        rss_kib: rss_kib(),
        rss_anon_kib: rss_anon_kib(),
        heap_bytes: live_heap(),
        tokio_tasks,
        smol_empty,
    }
}

/// What the binary running the soak knows about its heap; a library cannot install a global
/// allocator, so `tests/tests/soak.rs` sets these.
#[derive(Debug, Clone, Copy)]
pub struct HeapHooks {
    /// Bytes allocated and not yet freed (a counting global allocator).
    pub live: fn() -> u64,
    /// Hands the allocator's free memory back to the system (glibc's `malloc_trim`), so that the
    /// resident set measured next counts memory in use rather than the allocator's caches.
    pub release_free: fn(),
}

/// Set once by the binary running the soak.
pub static HEAP_HOOKS: std::sync::OnceLock<HeapHooks> = std::sync::OnceLock::new();

/// Bytes allocated and not yet freed, if a counting allocator reports them.
pub fn live_heap() -> Option<u64> {
    HEAP_HOOKS.get().map(|h| (h.live)())
}

/// Entries in `/proc/self/fd` (0 where there is no `/proc`).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Threads of this process that run a pool's cleanup (named `wayfarer-pool`; 0 where there
/// is no `/proc`).
pub fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |dir| {
        dir.filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim_end() == "wayfarer-pool")
            .count()
    })
}

/// Waits, at most `within`, until no thread of this process is a pool's cleanup thread.
fn wait_for_no_pool_threads(within: Duration) {
    let deadline = Instant::now() + within;
    while pool_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Entries in `/proc/self/task`: threads of this process (0 where there is no `/proc`).
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |dir| dir.count())
}

/// The resident set in KiB, from `/proc/self/status` (0 where there is no `/proc`).
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// The resident set without mapped files, in KiB (0 where there is no `/proc`).
pub fn rss_anon_kib() -> u64 {
    status_kib("RssAnon:")
}

/// A `/proc/self/status` field given in kB, such as `VmRSS:` (0 where there is none).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

impl Report {
    /// Every property the soak checks that did not hold; empty when the soak passed.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.total.calls != self.settings.requests {
            out.push(format!(
                "{} calls were made, {} were asked for",
                self.total.calls, self.settings.requests
            ));
        }
        if self.total.mismatches > 0 {
            out.push(format!(
                "{} calls did not end as their case says ({} with another request's bytes):\n  {}",
                self.total.mismatches,
                self.total.poisoned,
                self.total.samples.join("\n  ")
            ));
        }
        if self.origin.anomalies > 0 {
            out.push(format!(
                "the origin saw {} anomalies:\n  {}",
                self.origin.anomalies,
                self.origin.anomaly_samples.join("\n  ")
            ));
        }
        for (when, snap) in [("after the warm-up", &self.warm), ("at the end", &self.end)] {
            if snap.origin_open > 0 {
                out.push(format!(
                    "{when}, with every pool evicted, the origin still had {} connections open",
                    snap.origin_open
                ));
            }
            if snap.idle_after_eviction != [0; 3] {
                out.push(format!(
                    "{when}, pools still held {:?} idle connections after eviction",
                    snap.idle_after_eviction
                ));
            }
            if snap.tokio_tasks > 0 || !snap.smol_empty {
                out.push(format!(
                    "{when}, tasks were left: {} on tokio, smol executor empty: {}",
                    snap.tokio_tasks, snap.smol_empty
                ));
            }
        }
        if self.end.fds != self.warm.fds {
            out.push(format!(
                "open descriptors went from {} after the warm-up to {} at the end",
                self.warm.fds, self.end.fds
            ));
        }
        if self.end.threads != self.warm.threads {
            out.push(format!(
                "threads went from {} after the warm-up to {} at the end",
                self.warm.threads, self.end.threads
            ));
        }
        if let (Some(warm), Some(end)) = (self.warm.heap_bytes, self.end.heap_bytes) {
            if end > warm + HEAP_GROWTH_LIMIT {
                out.push(format!(
                    "the live heap grew from {warm} bytes after the warm-up to {end} at the end \
                     (more than {HEAP_GROWTH_LIMIT})"
                ));
            }
        }
        let (warm, end) = (self.warm.rss_anon_kib, self.end.rss_anon_kib);
        if end > warm + RSS_GROWTH_LIMIT_KIB {
            out.push(format!(
                "the anonymous resident set grew from {warm} KiB after the warm-up to {end} KiB \
                 at the end (more than {RSS_GROWTH_LIMIT_KIB} KiB)"
            ));
        }
        let max_idle = self.settings.client_config().max_idle_connections();
        for run in &self.runs {
            if run.idle_after_run > max_idle {
                out.push(format!(
                    "after its run, {:?}'s pool held {} idle connections, more than the \
                     {max_idle} allowed",
                    run.runtime, run.idle_after_run
                ));
            }
        }
        for (when, snap) in [("after the warm-up", &self.warm), ("at the end", &self.end)] {
            if snap.idle_before_eviction.iter().any(|&n| n > max_idle) {
                out.push(format!(
                    "{when}, pools held {:?} idle connections, more than the {max_idle} allowed",
                    snap.idle_before_eviction
                ));
            }
        }
        if let Some((answer, longest)) = self.total.longest() {
            if longest > SLOW_CALL_LIMIT {
                out.push(format!(
                    "a call ending in \"{answer}\" took {longest:.1?} (more than {SLOW_CALL_LIMIT:?})"
                ));
            }
        }
        out
    }

    /// The report as Markdown, for `tests/SOAK.md`.
    pub fn to_markdown(&self) -> String {
        let s = &self.settings;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "- requests: {} (warm-up {} per runtime), seed `{:#x}`, {} blocking threads, {} calls \
             in flight per async runtime, read timeout {:?}",
            s.requests, s.warmup, s.seed, s.threads, s.concurrency, s.read_timeout
        );
        let _ = writeln!(md, "- duration: {:.1?}", self.duration);
        for run in &self.runs {
            let _ = writeln!(
                md,
                "  - {:?}: {} calls in {:.1?} ({:.0} calls/s); {} idle pooled connections after \
                 its run",
                run.runtime,
                run.tally.calls,
                run.duration,
                run.tally.calls as f64 / run.duration.as_secs_f64().max(1e-9),
                run.idle_after_run
            );
        }
        let _ = writeln!(
            md,
            "- origin: {} connections for {} requests; anomalies: {}",
            self.origin.connections, self.origin.requests, self.origin.anomalies
        );
        let _ = writeln!(
            md,
            "- mismatches: {} (poisoned: {})",
            self.total.mismatches, self.total.poisoned
        );
        let _ = writeln!(md);
        let _ = writeln!(md, "| | after warm-up | end |");
        let _ = writeln!(md, "|---|---|---|");
        let (w, e) = (&self.warm, &self.end);
        let _ = writeln!(md, "| open descriptors | {} | {} |", w.fds, e.fds);
        let _ = writeln!(md, "| threads | {} | {} |", w.threads, e.threads);
        let _ = writeln!(md, "| RSS (KiB) | {} | {} |", w.rss_kib, e.rss_kib);
        let _ = writeln!(
            md,
            "| RSS without mapped files (KiB) | {} | {} |",
            w.rss_anon_kib, e.rss_anon_kib
        );
        if let (Some(wh), Some(eh)) = (w.heap_bytes, e.heap_bytes) {
            let _ = writeln!(md, "| live heap (bytes) | {wh} | {eh} |");
        }
        let _ = writeln!(
            md,
            "| idle pooled connections before eviction (blocking, tokio, smol) | {:?} | {:?} |",
            w.idle_before_eviction, e.idle_before_eviction
        );
        let _ = writeln!(
            md,
            "| idle pooled connections after eviction | {:?} | {:?} |",
            w.idle_after_eviction, e.idle_after_eviction
        );
        let _ = writeln!(
            md,
            "| origin connections still open | {} | {} |",
            w.origin_open, e.origin_open
        );
        let _ = writeln!(
            md,
            "| tasks alive (tokio; smol empty) | {}; {} | {}; {} |",
            w.tokio_tasks, w.smol_empty, e.tokio_tasks, e.smol_empty
        );
        let _ = writeln!(md);
        table(
            &mut md,
            "last answer",
            &self.runs,
            |t| &t.answers,
            &self.total.answers,
        );
        table(
            &mut md,
            "outcome",
            &self.runs,
            |t| &t.outcomes,
            &self.total.outcomes,
        );
        let _ = writeln!(
            md,
            "| call time (ms): shortest / mean / longest | {}",
            runtime_columns(&self.runs)
        );
        let _ = writeln!(md, "|---|{}", "---:|".repeat(self.runs.len()));
        for key in self.total.answers.keys() {
            let cells: Vec<String> = self
                .runs
                .iter()
                .map(|r| {
                    let t = r.tally.time.get(key).copied().unwrap_or_default();
                    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                    format!(
                        "{:.0} / {:.1} / {:.0}",
                        ms(t.shortest),
                        t.mean_ms(),
                        ms(t.longest)
                    )
                })
                .collect();
            let _ = writeln!(md, "| {key} | {} |", cells.join(" | "));
        }
        let _ = writeln!(md);
        table(&mut md, "mix", &self.runs, |t| &t.mix, &self.total.mix);
        md
    }
}

/// A Markdown table: one row per key, a column per runtime and the total.
fn table<K: Ord + std::fmt::Display>(
    md: &mut String,
    title: &str,
    runs: &[RuntimeRun],
    column: impl Fn(&Tally) -> &std::collections::BTreeMap<K, u64>,
    total: &std::collections::BTreeMap<K, u64>,
) {
    let _ = writeln!(md, "| {title} | {} total |", runtime_columns(runs));
    let _ = writeln!(md, "|---|{}---:|", "---:|".repeat(runs.len()));
    for (key, sum) in total {
        let cells: Vec<String> = runs
            .iter()
            .map(|r| column(&r.tally).get(key).copied().unwrap_or(0).to_string())
            .collect();
        let _ = writeln!(md, "| {key} | {} | {sum} |", cells.join(" | "));
    }
    let _ = writeln!(md);
}

/// `blocking | tokio | smol |` for the runtimes that ran.
fn runtime_columns(runs: &[RuntimeRun]) -> String {
    runs.iter()
        .map(|r| format!("{} |", format!("{:?}", r.runtime).to_lowercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            idle_before_eviction: [2, 5, 7],
            idle_after_eviction: [0; 3],
            origin_open: 0,
            fds: 14,
            threads: 7,
            rss_kib: 9000,
            rss_anon_kib: 4000,
            heap_bytes: Some(200_000),
            tokio_tasks: 0,
            smol_empty: true,
        }
    }

    fn report(end: Snapshot) -> Report {
        let settings = Settings {
            requests: 0,
            ..Settings::default()
        };
        Report {
            settings,
            runs: Vec::new(),
            total: Tally::default(),
            warm: snapshot(),
            end,
            origin: OriginStats::default(),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn a_quiet_end_passes() {
        let mut end = snapshot();
        end.heap_bytes = Some(200_000 + HEAP_GROWTH_LIMIT);
        end.rss_anon_kib += RSS_GROWTH_LIMIT_KIB;
        end.rss_kib += 50_000;
        assert_eq!(report(end).failures(), Vec::<String>::new());
    }

    #[test]
    fn every_leak_and_leftover_fails() {
        /// Words the failure must contain, and the leak.
        type Leak = (&'static str, fn(&mut Snapshot));
        let leaks: [Leak; 8] = [
            ("descriptors", |s| s.fds += 1),
            ("threads", |s| s.threads += 1),
            ("live heap", |s| {
                s.heap_bytes = Some(200_001 + HEAP_GROWTH_LIMIT);
            }),
            ("resident set", |s| {
                s.rss_anon_kib += RSS_GROWTH_LIMIT_KIB + 1
            }),
            ("origin still had 1", |s| s.origin_open = 1),
            ("after eviction", |s| s.idle_after_eviction = [0, 1, 0]),
            ("more than the 16 allowed", |s| {
                s.idle_before_eviction = [17, 0, 0];
            }),
            ("tasks were left", |s| s.tokio_tasks = 1),
        ];
        for (words, leak) in leaks {
            let mut end = snapshot();
            leak(&mut end);
            let failures = report(end).failures();
            assert_eq!(failures.len(), 1, "{words}: {failures:?}");
            assert!(failures[0].contains(words), "{words}: {failures:?}");
        }
    }

    #[test]
    fn a_pool_over_its_limit_after_a_run_fails() {
        let mut report = report(snapshot());
        report.runs.push(RuntimeRun {
            runtime: Runtime::Smol,
            tally: Tally::default(),
            duration: Duration::ZERO,
            idle_after_run: 16,
        });
        assert_eq!(report.failures(), Vec::<String>::new());
        report.runs[0].idle_after_run = 17;
        let failures = report.failures();
        assert!(
            failures.iter().any(|f| f.contains("Smol's pool held 17")),
            "{failures:?}"
        );
    }

    #[test]
    fn missing_calls_and_slow_calls_fail() {
        let mut report = report(snapshot());
        report.settings.requests = 3;
        let failures = report.failures();
        assert!(failures[0].contains("0 calls were made, 3"), "{failures:?}");

        let case = case::Case::new(1, 1);
        report.settings.requests = 1;
        report.total.record(
            &case,
            1,
            &call::Outcome::Error {
                kind: wayfarer_core::ErrorKind::Timeout,
                timeout: Some(wayfarer_core::TimeoutKind::Call),
                stage: case::Stage::Execute,
                message: "call timed out".into(),
            },
            SLOW_CALL_LIMIT + Duration::from_secs(1),
            Duration::from_secs(1),
        );
        let failures = report.failures();
        assert!(
            failures.iter().any(|f| f.contains("did not end as")),
            "{failures:?}"
        );
        assert!(
            failures.iter().any(|f| f.contains("took 11.0s")),
            "{failures:?}"
        );
    }
}
