//! The three runtimes, each with one client that lives through the whole soak: the blocking
//! client on several threads, tokio on a two-worker runtime and smol on a two-thread executor,
//! each with many calls in flight at once.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wayfarer_core::Config;

use super::call::{Target, call_async, call_blocking};
use super::case::Case;
use super::tally::Tally;
use crate::run::Runtime;

/// Each worker's read buffer, allocated once: large enough that big bodies are read straight
/// from the socket into it.
const READ_BUFFER: usize = 64 * 1024;

/// A call still running after this long is hung: the clients' call timeout (30 s) should have
/// ended it long before. A hung blocking call cannot be cancelled from outside, so the
/// watchdog names the call and aborts the process: the soak fails loudly instead of never
/// finishing.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// The soak's clients and the executors they run on.
pub struct Runners {
    read_timeout: Duration,
    threads: usize,
    concurrency: usize,
    progress: bool,
    blocking: wayfarer_blocking::Client,
    tokio_rt: tokio::runtime::Runtime,
    tokio: wayfarer_tokio::Client,
    smol_ex: Arc<smol::Executor<'static>>,
    smol_stop: Option<smol::channel::Sender<()>>,
    smol_threads: Vec<JoinHandle<()>>,
    smol: wayfarer_smol::Client,
}

impl std::fmt::Debug for Runners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runners")
            .field("threads", &self.threads)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// The ids still to run, handed out one at a time to whichever worker asks.
struct Work {
    target: Target,
    next: AtomicU64,
    end: u64,
    done: AtomicU64,
    total: u64,
    /// Print a progress line every this many calls (0: never).
    every: u64,
    runtime: Runtime,
    started: Instant,
    read_timeout: Duration,
    /// One per worker: the call it is running, for the watchdog.
    slots: Vec<Slot>,
    /// Set when every worker is done; the watchdog stops.
    finished: AtomicBool,
}

/// A worker's call in flight: the case id plus one (0: none) and when it began, in
/// milliseconds since the run started.
#[derive(Default)]
struct Slot {
    case: AtomicU64,
    since_ms: AtomicU64,
}

impl Work {
    fn take(&self) -> Option<Case> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        (id < self.end).then(|| Case::new(self.target.seed, id))
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Worker `slot` begins `case`.
    fn begin(&self, slot: usize, case: &Case) {
        let s = &self.slots[slot];
        s.since_ms.store(self.elapsed_ms(), Ordering::Relaxed);
        s.case.store(case.id + 1, Ordering::Release);
    }

    /// Worker `slot` is done with its call.
    fn end(&self, slot: usize) {
        self.slots[slot].case.store(0, Ordering::Release);
        self.finished_one();
    }

    fn finished_one(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.every > 0 && done % self.every == 0 {
            eprintln!(
                "soak: {:?} {done}/{} calls in {:.0?}, RSS {} KiB ({} KiB anonymous), heap {:?}",
                self.runtime,
                self.total,
                self.started.elapsed(),
                super::rss_kib(),
                super::rss_anon_kib(),
                super::live_heap()
            );
        }
    }

    /// Checks every quarter of a second, until the workers are done, that no call has run for
    /// [`HANG_LIMIT`]; aborts the process if one has.
    fn watch(&self) {
        while !self.finished.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(250));
            if let Some(hung) = self.hung(self.elapsed_ms()) {
                eprintln!("soak: {hung}; aborting");
                std::process::abort();
            }
        }
    }

    /// A call that has run for [`HANG_LIMIT`] or longer at `now_ms` (milliseconds since the
    /// run started), described for a person replaying it.
    fn hung(&self, now_ms: u64) -> Option<String> {
        self.slots.iter().find_map(|slot| {
            let case = slot.case.load(Ordering::Acquire);
            let ran = now_ms.saturating_sub(slot.since_ms.load(Ordering::Relaxed));
            if case == 0 || ran < HANG_LIMIT.as_millis() as u64 {
                return None;
            }
            let case = Case::new(self.target.seed, case - 1);
            Some(format!(
                "a call hung: case {} on {:?} has run for {:.1} s, past the {HANG_LIMIT:?} limit \
                 (seed {:#x}; WAYFARER_SOAK_SEED replays it): {case:?}",
                case.id,
                self.runtime,
                ran as f64 / 1000.0,
                self.target.seed,
            ))
        })
    }
}

impl Runners {
    /// Clients built from `config`: `threads` blocking threads and `concurrency` calls in flight
    /// on each async runtime.
    pub fn new(config: Config, threads: usize, concurrency: usize, progress: bool) -> Runners {
        let tokio_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let smol_ex = Arc::new(smol::Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let smol_threads = (0..2)
            .map(|_| {
                let ex = smol_ex.clone();
                let stopped = stopped.clone();
                std::thread::Builder::new()
                    .name("soak-smol".into())
                    .spawn(move || {
                        let _ = smol::block_on(ex.run(stopped.recv()));
                    })
                    .expect("spawn a smol executor thread")
            })
            .collect();
        Runners {
            read_timeout: config.read_timeout().unwrap_or(Duration::MAX),
            threads,
            concurrency,
            progress,
            blocking: wayfarer_blocking::Client::from(config.clone()),
            tokio: wayfarer_tokio::Client::from(config.clone()),
            smol: wayfarer_smol::Client::from(config),
            tokio_rt,
            smol_ex,
            smol_stop: Some(stop),
            smol_threads,
        }
    }

    /// Runs the cases `ids` on `runtime` and counts what they came to.
    pub fn run(&self, runtime: Runtime, ids: Range<u64>, target: Target) -> Tally {
        let total = ids.end - ids.start;
        let work = Arc::new(Work {
            target,
            next: AtomicU64::new(ids.start),
            end: ids.end,
            done: AtomicU64::new(0),
            total,
            every: if self.progress {
                (total / 10).max(1)
            } else {
                0
            },
            runtime,
            started: Instant::now(),
            read_timeout: self.read_timeout,
            slots: (0..self.threads.max(self.concurrency))
                .map(|_| Slot::default())
                .collect(),
            finished: AtomicBool::new(false),
        });
        let watchdog = {
            let work = work.clone();
            std::thread::Builder::new()
                .name("soak-watchdog".into())
                .spawn(move || work.watch())
                .expect("spawn the soak's watchdog")
        };
        let tally = self.run_workers(runtime, &work);
        work.finished.store(true, Ordering::Release);
        let _ = watchdog.join();
        tally
    }

    fn run_workers(&self, runtime: Runtime, work: &Arc<Work>) -> Tally {
        match runtime {
            Runtime::Blocking => std::thread::scope(|scope| {
                let workers: Vec<_> = (0..self.threads)
                    .map(|slot| {
                        let (client, work) = (&self.blocking, &work);
                        scope.spawn(move || {
                            let mut tally = Tally::default();
                            let mut buf = vec![0u8; READ_BUFFER];
                            while let Some(case) = work.take() {
                                let began = Instant::now();
                                work.begin(slot, &case);
                                let outcome = call_blocking(client, &case, &work.target, &mut buf);
                                tally.record(
                                    &case,
                                    work.target.seed,
                                    &outcome,
                                    began.elapsed(),
                                    work.read_timeout,
                                );
                                work.end(slot);
                            }
                            tally
                        })
                    })
                    .collect();
                let mut tally = Tally::default();
                for worker in workers {
                    tally.merge(worker.join().expect("a blocking soak thread panicked"));
                }
                tally
            }),
            Runtime::Tokio => self.tokio_rt.block_on(async {
                let tasks: Vec<_> = (0..self.concurrency)
                    .map(|slot| tokio::spawn(worker(self.tokio.clone(), work.clone(), slot)))
                    .collect();
                let mut tally = Tally::default();
                for task in tasks {
                    tally.merge(task.await.expect("a tokio soak task panicked"));
                }
                tally
            }),
            Runtime::Smol => smol::block_on(async {
                let tasks: Vec<_> = (0..self.concurrency)
                    .map(|slot| {
                        self.smol_ex
                            .spawn(worker(self.smol.clone(), work.clone(), slot))
                    })
                    .collect();
                let mut tally = Tally::default();
                for task in tasks {
                    tally.merge(task.await);
                }
                tally
            }),
        }
    }

    /// Idle pooled connections of each runtime's client, in [`Runtime::ALL`]'s order.
    pub fn idle_connections(&self) -> [usize; 3] {
        [
            self.blocking.idle_connection_count(),
            self.tokio.idle_connection_count(),
            self.smol.idle_connection_count(),
        ]
    }

    /// Idle pooled connections of `runtime`'s client.
    pub fn idle(&self, runtime: Runtime) -> usize {
        match runtime {
            Runtime::Blocking => self.blocking.idle_connection_count(),
            Runtime::Tokio => self.tokio.idle_connection_count(),
            Runtime::Smol => self.smol.idle_connection_count(),
        }
    }

    /// Closes every idle pooled connection of `runtime`'s client.
    pub fn evict(&self, runtime: Runtime) {
        match runtime {
            Runtime::Blocking => self.blocking.evict_all(),
            Runtime::Tokio => self.tokio.evict_all(),
            Runtime::Smol => self.smol.evict_all(),
        }
    }

    /// Closes every idle pooled connection of every client.
    pub fn evict_all(&self) {
        self.blocking.evict_all();
        self.tokio.evict_all();
        self.smol.evict_all();
    }

    /// Tasks still alive on the tokio runtime and on the smol executor. Every soak task has
    /// been awaited by now; a finished task may take a moment to be released, so this waits up
    /// to a second for both to reach zero.
    pub fn live_tasks(&self) -> (usize, bool) {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let tokio = self.tokio_rt.metrics().num_alive_tasks();
            let smol_empty = self.smol_ex.is_empty();
            if (tokio == 0 && smol_empty) || Instant::now() >= deadline {
                return (tokio, smol_empty);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Runners {
    fn drop(&mut self) {
        drop(self.smol_stop.take());
        for thread in self.smol_threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// One async worker: takes cases until none are left.
async fn worker<N: wayfarer_async::Net>(
    client: wayfarer_async::Client<N>,
    work: Arc<Work>,
    slot: usize,
) -> Tally {
    let mut tally = Tally::default();
    let mut buf = vec![0u8; READ_BUFFER];
    while let Some(case) = work.take() {
        let began = Instant::now();
        work.begin(slot, &case);
        let outcome = call_async(&client, &case, &work.target, &mut buf).await;
        tally.record(
            &case,
            work.target.seed,
            &outcome,
            began.elapsed(),
            work.read_timeout,
        );
        work.end(slot);
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(slots: usize) -> Work {
        let addr = "127.0.0.1:1".parse().expect("an address");
        Work {
            target: Target {
                seed: 7,
                main: addr,
                idempotent: addr,
            },
            next: AtomicU64::new(0),
            end: 10,
            done: AtomicU64::new(0),
            total: 10,
            every: 0,
            runtime: Runtime::Tokio,
            started: Instant::now(),
            read_timeout: Duration::from_millis(200),
            slots: (0..slots).map(|_| Slot::default()).collect(),
            finished: AtomicBool::new(false),
        }
    }

    #[test]
    fn the_watchdog_names_a_call_running_past_the_hang_limit() {
        let work = work(2);
        let limit = HANG_LIMIT.as_millis() as u64;
        work.slots[1].since_ms.store(5_000, Ordering::Relaxed);
        work.slots[1].case.store(43, Ordering::Release);
        assert_eq!(work.hung(5_000 + limit - 1), None);
        let hung = work.hung(5_000 + limit).expect("a hung call");
        assert!(hung.contains("case 42 on Tokio"), "{hung}");
        assert!(hung.contains("seed 0x7"), "{hung}");
    }

    #[test]
    fn the_watchdog_ignores_idle_workers_and_ended_calls() {
        let work = work(1);
        let case = Case::new(7, 3);
        work.begin(0, &case);
        work.end(0);
        assert_eq!(work.hung(u64::MAX), None);
        assert_eq!(work.done.load(Ordering::Relaxed), 1);
    }
}
