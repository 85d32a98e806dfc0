//! wayfarer's side-by-side benchmark: the same workloads on wayfarer's runtimes, other Rust
//! HTTP clients and hand-written floors, against a private nginx, in interleaved rounds with
//! client and server pinned to one core. See README.md beside Cargo.toml.

mod affinity;
mod client;
mod clients;
mod probe;
mod raw_http;
mod report;
mod servers;
mod sink;
mod tls;
mod workload;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::client::{ClientUnderTest, Job, Sample, Target};
use crate::report::{ClientInfo, Results};
use crate::servers::Servers;
use crate::workload::{Metric, Server, Size, Workload};

/// Benchmarks wayfarer against other HTTP clients and raw-socket floors.
#[derive(Debug, Parser)]
#[command(name = "wayfarer-bench")]
struct Args {
    /// Fewer requests per round (a fifth) and 2 rounds instead of 6: a smoke run.
    #[arg(long)]
    quick: bool,
    /// How many interleaved rounds to run (default 6, or 2 with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// N times the requests per round: longer rounds, less at the mercy of a busy machine's
    /// pauses (a round of W1 or W5 lasts about a tenth of a second at 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    scale: u16,
    /// Only the workloads whose id starts with one of these comma-separated prefixes, e.g.
    /// `W1,T3` (ids: W1/13B W1/16KiB W1/1MiB W2/16 W2/64 W3 W4 W5 W6 T1 T2/64 T3 T5/resumed
    /// T5/full).
    #[arg(long)]
    filter: Option<String>,
    /// Only the clients whose name contains one of these comma-separated words, e.g.
    /// `wayfarer,floor`.
    #[arg(long)]
    clients: Option<String>,
    /// Pin the servers to their own core instead of the client's.
    #[arg(long)]
    two_cores: bool,
    /// The CPU the client runs on (the servers use the next one with --two-cores).
    #[arg(long, default_value_t = 0)]
    cpu: usize,
    /// Skip counting system calls under strace.
    #[arg(long)]
    no_strace: bool,
    #[command(subcommand)]
    internal: Option<Internal>,
}

#[derive(Debug, Subcommand)]
enum Internal {
    /// What this binary runs as in its child processes.
    #[command(hide = true)]
    Internal {
        #[command(subcommand)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
enum Role {
    /// The upload sink.
    Sink,
    /// One client running one workload once, for strace, the RSS measurement or cachegrind.
    Probe {
        #[arg(long)]
        client: String,
        #[arg(long)]
        workload: String,
        /// `http://IP:PORT`, or `https://localhost:PORT` with `--ca`.
        #[arg(long)]
        base: String,
        /// The PEM file of the CA that signed an HTTPS base's certificate.
        #[arg(long)]
        ca: Option<std::path::PathBuf>,
        #[arg(long)]
        per_worker: Option<usize>,
        #[arg(long)]
        rss: bool,
    },
    /// Starts the suite's servers, prints where they are, and keeps them until standard input
    /// closes: for running probes by hand (`instructions.sh`).
    Serve,
}

impl Args {
    /// How many requests a round makes.
    fn size(&self) -> Size {
        Size {
            quick: self.quick,
            scale: usize::from(self.scale),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Every rustls user in the process that does not name a provider gets ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let result = match &args.internal {
        Some(Internal::Internal { role }) => internal(role),
        None => benchmark(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wayfarer-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn internal(role: &Role) -> Result<(), String> {
    match role {
        Role::Sink => sink::serve().map_err(|e| format!("upload sink: {e}")),
        Role::Probe {
            client,
            workload,
            base,
            ca,
            per_worker,
            rss,
        } => {
            let client = clients::by_name(client).ok_or(format!("no client {client}"))?;
            let workload = workload::by_id(workload).ok_or(format!("no workload {workload}"))?;
            let target = match ca {
                Some(ca) => servers::tls_target(base, ca)?,
                None => servers::plain_target(base)?,
            };
            probe::child(client.as_ref(), &workload, &target, *per_worker, *rss)
        }
        Role::Serve => {
            let servers = Servers::start()?;
            println!("plain {}", servers.plain().base);
            println!("tls {}", servers.tls().base);
            println!("sink {}", servers.sink().base);
            println!("ca {}", servers.ca_pem_file().display());
            std::io::stdout().flush().map_err(|e| e.to_string())?;
            // Until standard input closes (or the process is interrupted with its servers).
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            drop(servers);
            Ok(())
        }
    }
}

fn benchmark(args: &Args) -> Result<(), String> {
    let began = Instant::now();
    let rounds = args.rounds.unwrap_or(if args.quick { 2 } else { 6 }).max(1);
    let size = args.size();
    let workloads: Vec<Workload> = workload::all()
        .into_iter()
        .filter(|w| w.selected(args.filter.as_deref()))
        .collect();
    let clients: Vec<Box<dyn ClientUnderTest>> = clients::all()
        .into_iter()
        .filter(|c| selected(c.about().name, args.clients.as_deref()))
        .collect();
    if workloads.is_empty() || clients.is_empty() {
        return Err("the filters leave nothing to run".into());
    }

    let cpus = affinity::available_cpus();
    let client_cpu = args.cpu;
    let server_cpu = if args.two_cores {
        (args.cpu + 1) % cpus
    } else {
        args.cpu
    };
    if args.two_cores && cpus < 2 {
        return Err("--two-cores needs two CPUs".into());
    }
    // The servers inherit the affinity the main thread has when it starts them.
    affinity::pin_current_thread(server_cpu)
        .map_err(|e| format!("cannot pin to CPU {server_cpu}: {e}"))?;
    let servers = Servers::start()?;
    affinity::pin_current_thread(client_cpu)
        .map_err(|e| format!("cannot pin to CPU {client_cpu}: {e}"))?;
    let upload = workload::upload_body();

    let infos = clients
        .iter()
        .map(|c| ClientInfo {
            about: c.about(),
            tls_provider: c.tls_provider(),
        })
        .collect();
    let mut results = Results::new(workloads.clone(), infos);
    let target_of = |w: &Workload| -> Target {
        match w.server {
            Server::Plain => servers.plain(),
            Server::Tls => servers.tls(),
            Server::Sink => servers.sink(),
        }
    };

    for round in 0..rounds {
        for (w, workload) in workloads.iter().enumerate() {
            let target = target_of(workload);
            let job = workload.job(size, &upload);
            // Each round starts with a different client, so no client always follows the same
            // one (or always runs first, on the coldest caches).
            for k in 0..clients.len() {
                let c = (k + round) % clients.len();
                let client = clients[c].as_ref();
                let cell = &mut results.cells[w][c];
                if let Some(why) = client.unsupported(&job) {
                    cell.unsupported = Some(why);
                    continue;
                }
                if cell.failure.is_some() {
                    continue;
                }
                let name = client.about().name;
                let measured = match workload.metric {
                    Metric::RssGrowth => probe::rss_growth(name, workload, &target, job.per_worker),
                    Metric::Requests => run_caught(client, &target, &job)
                        .map(|s| s.requests as f64 / s.elapsed.as_secs_f64()),
                    Metric::Megabytes => run_caught(client, &target, &job)
                        .map(|s| s.bytes as f64 / s.elapsed.as_secs_f64() / 1e6),
                };
                match measured {
                    Ok(value) => {
                        eprintln!(
                            "round {}/{rounds}  {:<10} {name:<18} {value:>10.0} {}",
                            round + 1,
                            workload.id,
                            workload.metric.unit()
                        );
                        cell.values.push(value);
                    }
                    Err(e) => {
                        eprintln!(
                            "round {}/{rounds}  {:<10} {name:<18} FAILED: {e}",
                            round + 1,
                            workload.id
                        );
                        cell.failure = Some(e);
                    }
                }
            }
        }
    }

    let strace = if args.no_strace {
        None
    } else {
        probe::strace()
    };
    let strace_note = match (&strace, args.no_strace) {
        (Some(_), _) => "System calls per request: counted by `strace -f -c` in a separate run \
                         (see the method in README.md)."
            .to_string(),
        (None, true) => "System calls per request: not counted (--no-strace).".to_string(),
        (None, false) => "System calls per request: not counted, because strace is not \
                          installed (`apt-get install strace`)."
            .to_string(),
    };
    if let Some(strace) = &strace {
        for (w, workload) in workloads.iter().enumerate().filter(|(_, w)| w.syscalls) {
            let target = target_of(workload);
            for (c, client) in clients.iter().enumerate() {
                let name = client.about().name;
                let counted = probe::syscalls_per_request(strace, name, workload, &target);
                match &counted {
                    Ok(calls) => eprintln!(
                        "strace     {:<10} {name:<18} {:>10.1} syscalls/req",
                        workload.id, calls.total
                    ),
                    Err(e) => eprintln!("strace     {:<10} {name:<18} FAILED: {e}", workload.id),
                }
                results.cells[w][c].syscalls = Some(counted);
            }
        }
    }
    drop(servers);

    let preamble = preamble(
        args,
        rounds,
        cpus,
        (client_cpu, server_cpu),
        &strace_note,
        began,
    );
    let report = results.markdown(&preamble, size);
    std::io::stdout()
        .write_all(report.as_bytes())
        .map_err(|e| format!("cannot print the report: {e}"))
}

/// Runs one sample, turning a panic inside a client library into that client's failure so
/// the other clients still run.
fn run_caught(client: &dyn ClientUnderTest, target: &Target, job: &Job) -> Result<Sample, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| client.run(target, job)))
        .unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("panicked: {message}"))
        })
}

fn selected(name: &str, filter: Option<&str>) -> bool {
    filter.is_none_or(|filter| {
        filter
            .split(',')
            .map(str::trim)
            .any(|word| !word.is_empty() && name.contains(word))
    })
}

/// The run's conditions: machine, pinning, rounds, servers.
fn preamble(
    args: &Args,
    rounds: usize,
    cpus: usize,
    (client_cpu, server_cpu): (usize, usize),
    strace_note: &str,
    began: Instant,
) -> String {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let pinning = if client_cpu == server_cpu {
        format!("client, nginx and the upload sink all pinned to CPU {client_cpu}")
    } else {
        format!("client pinned to CPU {client_cpu}; nginx and the upload sink to CPU {server_cpu}")
    };
    format!(
        "# wayfarer-bench results\n\n\
         - Machine: {} CPUs ({cpu_model}), Linux {kernel}\n\
         - Server: {}\n\
         - Pinning: {pinning}\n\
         - Rounds: {rounds}, interleaved{}\n\
         - {strace_note}\n\
         - Wall time of the whole run: {:.0} s\n",
        cpus,
        nginx_version(),
        args.size().note(),
        began.elapsed().as_secs_f64(),
    )
}

fn nginx_version() -> String {
    ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .find_map(|binary| {
            let output = std::process::Command::new(binary).arg("-v").output().ok()?;
            let text = String::from_utf8_lossy(&output.stderr);
            Some(
                text.trim()
                    .trim_start_matches("nginx version: ")
                    .to_string(),
            )
        })
        .unwrap_or_else(|| "nginx".into())
}
