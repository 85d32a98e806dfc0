//! Measurements taken in a fresh child process (this binary with `internal probe`), one client
//! at a time, so no other client's threads, pools or allocator state are counted:
//!
//! - **peak RSS growth** (W6): the child reads its resident set before the run and its peak
//!   (`VmHWM`) after it, from `/proc/self/status`;
//! - **system calls per request** (W1, W5): the child runs under `strace -f -c` twice, with two
//!   request counts; the difference in calls divided by the difference in requests cancels
//!   everything but the requests themselves (startup, building the client, warming up).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::client::{ClientUnderTest, Target};
use crate::workload::{Size, Workload};

/// Requests in the shorter and the longer strace run.
const STRACE_RUNS: (usize, usize) = (10, 110);

/// What the child prints before its measurement.
const RSS_PREFIX: &str = "rss-growth-kib ";

/// The child's side: runs `workload` (with `per_worker` measured requests per worker, if
/// given) on `client` against `target`, and prints the peak RSS growth when `rss` is set.
pub fn child(
    client: &dyn ClientUnderTest,
    workload: &Workload,
    target: &Target,
    per_worker: Option<usize>,
    rss: bool,
) -> Result<(), String> {
    let upload = if workload.uploads() {
        crate::workload::upload_body()
    } else {
        bytes::Bytes::new()
    };
    let mut job = workload.job(Size::FULL, &upload);
    if let Some(n) = per_worker {
        job.per_worker = n;
    }
    let before = status_kib("VmRSS")?;
    client.run(target, &job)?;
    if rss {
        let peak = status_kib("VmHWM")?;
        println!("{RSS_PREFIX}{}", peak.saturating_sub(before));
    }
    Ok(())
}

/// A `kB` line of `/proc/self/status`.
fn status_kib(field: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/self/status"))
}

/// This binary and the arguments that make it a probe of `client` running `workload`.
fn probe(client: &str, workload: &str, target: &Target) -> Result<(PathBuf, Vec<String>), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let args = [
        "internal",
        "probe",
        "--client",
        client,
        "--workload",
        workload,
    ]
    .into_iter()
    .chain(["--base", &target.base])
    .map(String::from)
    .collect();
    Ok((exe, args))
}

fn run_to_end(mut command: Command) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run a probe: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "probe failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The peak RSS growth of `client` running `workload`, in KiB, measured in a fresh process.
pub fn rss_growth(
    client: &str,
    workload: &Workload,
    target: &Target,
    per_worker: usize,
) -> Result<f64, String> {
    let (exe, args) = probe(client, workload.id, target)?;
    let mut command = Command::new(exe);
    command
        .args(args)
        .args(["--rss", "--per-worker", &per_worker.to_string()]);
    let stdout = run_to_end(command)?;
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(RSS_PREFIX)?.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("the probe printed no RSS figure: {stdout:?}"))
}

/// Where strace is, if it is installed.
pub fn strace() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("strace"))
        .find(|candidate| candidate.is_file())
}

/// System calls per request, in all and by name (the most frequent first).
#[derive(Debug, Clone, PartialEq)]
pub struct Syscalls {
    pub total: f64,
    pub by_name: Vec<(String, f64)>,
}

/// System calls per request of `client` running `workload`, counted by strace over all of the
/// probe's threads.
pub fn syscalls_per_request(
    strace: &Path,
    client: &str,
    workload: &Workload,
    target: &Target,
) -> Result<Syscalls, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a directory: {e}"))?;
    let mut summaries = Vec::new();
    for (i, requests) in [STRACE_RUNS.0, STRACE_RUNS.1].into_iter().enumerate() {
        let out = dir.path().join(format!("strace-{i}.txt"));
        let (exe, args) = probe(client, workload.id, target)?;
        let mut command = Command::new(strace);
        command
            .args(["-f", "-c", "-o"])
            .arg(&out)
            .arg("--")
            .arg(exe)
            .args(args);
        command.args(["--per-worker", &requests.to_string()]);
        run_to_end(command)?;
        let summary = std::fs::read_to_string(&out)
            .map_err(|e| format!("cannot read strace's summary: {e}"))?;
        summaries.push(calls_by_name(&summary));
    }
    let extra_requests = (STRACE_RUNS.1 - STRACE_RUNS.0) as f64;
    let per_request = |name: &str| {
        let count = |summary: &Vec<(String, u64)>| {
            summary
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0.0, |(_, calls)| *calls as f64)
        };
        (count(&summaries[1]) - count(&summaries[0])) / extra_requests
    };
    let total = per_request("total");
    if summaries[1].iter().all(|(name, _)| name != "total") {
        return Err("no total in strace's summary".into());
    }
    let mut by_name: Vec<(String, f64)> = summaries[1]
        .iter()
        .filter(|(name, _)| name != "total")
        .map(|(name, _)| (name.clone(), per_request(name)))
        .filter(|(_, calls)| *calls >= 0.05)
        .collect();
    by_name.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Syscalls { total, by_name })
}

/// The calls column of every line of `strace -c`'s summary, by system call name (and `total`).
fn calls_by_name(summary: &str) -> Vec<(String, u64)> {
    summary
        .lines()
        .filter_map(|line| {
            // % time, seconds, usecs/call, calls, [errors], name
            let fields: Vec<&str> = line.split_whitespace().collect();
            let calls = fields.get(3)?.parse().ok()?;
            Some((fields.last()?.to_string(), calls))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strace_summaries_with_and_without_errors() {
        let summary = "% time     seconds  usecs/call     calls    errors syscall\n\
                       ------ ----------- ----------- --------- --------- ----------------\n \
                       60.00    0.002000           4       400           read\n \
                       40.00    0.001000          10        92        22 connect\n\
                       ------ ----------- ----------- --------- --------- ----------------\n\
                       100.00    0.004209           8       492        22 total\n";
        assert_eq!(
            calls_by_name(summary),
            [
                ("read".to_string(), 400),
                ("connect".to_string(), 92),
                ("total".to_string(), 492)
            ]
        );
        assert!(calls_by_name("nothing here").is_empty());
    }
}
