//! The fault origin in a child process (the `soak_origin` binary), or in this one.
//!
//! In a child process the soak's measurements are the client's alone: the origin's thread per
//! connection and its response buffers would otherwise move the resident set by more than the
//! leaks the soak looks for.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::case::Port;
use super::origin::{FaultOrigin, OriginStats};

/// Where the fault origin runs.
#[derive(Debug)]
pub enum Origin {
    /// On threads of this process.
    Local(FaultOrigin),
    /// In a child process.
    Child(OriginProcess),
}

impl Origin {
    /// Starts the origin for `seed`: in a child process running `exe` (the `soak_origin`
    /// binary) when given, else in this process.
    pub fn start(seed: u64, exe: Option<&Path>) -> Result<Origin, String> {
        match exe {
            None => Ok(Origin::Local(FaultOrigin::start(seed))),
            Some(exe) => OriginProcess::start(exe, seed).map(Origin::Child),
        }
    }

    /// The address of `port`.
    pub fn addr(&self, port: Port) -> SocketAddr {
        match self {
            Origin::Local(o) => o.addr(port),
            Origin::Child(o) => match port {
                Port::Main => o.main,
                Port::Idempotent => o.idempotent,
            },
        }
    }

    /// Waits up to `limit` for every connection to end; true if they did.
    pub fn wait_all_closed(&self, limit: Duration) -> bool {
        match self {
            Origin::Local(o) => o.wait_all_closed(limit),
            Origin::Child(o) => o
                .ask(&format!("wait-closed {}", limit.as_millis()))
                .is_ok_and(|lines| lines.first().is_some_and(|l| l == "closed true")),
        }
    }

    /// What the origin saw so far. A child that stopped answering reports an anomaly.
    pub fn stats(&self) -> OriginStats {
        match self {
            Origin::Local(o) => o.stats(),
            Origin::Child(o) => o.stats().unwrap_or_else(|e| OriginStats {
                anomalies: 1,
                anomaly_samples: vec![format!("the origin process did not answer: {e}")],
                ..OriginStats::default()
            }),
        }
    }
}

/// The `soak_origin` binary, driven over its stdin and stdout.
#[derive(Debug)]
pub struct OriginProcess {
    child: Child,
    io: Mutex<Option<(ChildStdin, BufReader<ChildStdout>)>>,
    main: SocketAddr,
    idempotent: SocketAddr,
}

impl OriginProcess {
    fn start(exe: &Path, seed: u64) -> Result<OriginProcess, String> {
        let mut child = Command::new(exe)
            .arg(seed.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the origin process has no pipes".into());
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .map_err(|e| format!("the origin process did not start: {e}"))?;
        let mut addrs = line.split_whitespace().map(str::parse::<SocketAddr>);
        let (Some(Ok(main)), Some(Ok(idempotent))) = (addrs.next(), addrs.next()) else {
            let _ = child.kill();
            return Err(format!(
                "the origin process said {line:?}, not its addresses"
            ));
        };
        Ok(OriginProcess {
            child,
            io: Mutex::new(Some((stdin, stdout))),
            main,
            idempotent,
        })
    }

    /// Sends one command and reads its answer: one line, or for `stats` the lines up to `end`.
    fn ask(&self, command: &str) -> Result<Vec<String>, String> {
        let mut io = self.io.lock().map_err(|_| "poisoned".to_string())?;
        let (stdin, stdout) = io.as_mut().ok_or("the origin process is gone")?;
        writeln!(stdin, "{command}")
            .and_then(|()| stdin.flush())
            .map_err(|e| e.to_string())?;
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            match stdout.read_line(&mut line) {
                Ok(0) => return Err("the origin process exited".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
            let line = line.trim_end().to_string();
            let last = command != "stats" || line == "end";
            lines.push(line);
            if last {
                return Ok(lines);
            }
        }
    }

    fn stats(&self) -> Result<OriginStats, String> {
        let lines = self.ask("stats")?;
        let numbers: Vec<u64> = lines
            .first()
            .and_then(|l| l.strip_prefix("stats "))
            .ok_or("no stats line")?
            .split_whitespace()
            .map(|n| n.parse().map_err(|e| format!("{n:?}: {e}")))
            .collect::<Result<_, _>>()?;
        let [connections, requests, open, anomalies] = numbers[..] else {
            return Err(format!("a stats line of {} numbers", numbers.len()));
        };
        Ok(OriginStats {
            connections,
            requests,
            open: open as usize,
            anomalies,
            anomaly_samples: lines
                .iter()
                .filter_map(|l| l.strip_prefix("anomaly "))
                .map(str::to_string)
                .collect(),
        })
    }
}

impl Drop for OriginProcess {
    fn drop(&mut self) {
        // Closing stdin ends the process; it stops its listeners as it exits.
        if let Ok(mut io) = self.io.lock() {
            io.take();
        }
        let _ = self.child.wait();
    }
}
