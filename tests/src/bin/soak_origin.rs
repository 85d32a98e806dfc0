//! The soak's fault origin as a process of its own, so that the soak measures the client's
//! descriptors and memory without the origin's (a thread per connection, buffers for every
//! response).
//!
//! Usage: `soak_origin SEED`. It prints `MAIN_ADDR IDEMPOTENT_ADDR` on one line, then answers
//! commands on stdin, one per line:
//! - `stats`: `stats CONNECTIONS REQUESTS OPEN ANOMALIES`, then `anomaly TEXT` per kept
//!   anomaly, then `end`;
//! - `wait-closed MILLIS`: waits up to that long for every connection to end, then prints
//!   `closed true` or `closed false`.
//!
//! It exits when stdin closes.

use std::io::{BufRead, Write};
use std::time::Duration;

use wayfarer_tests::soak::case::Port;
use wayfarer_tests::soak::origin::FaultOrigin;

fn main() {
    let seed = match std::env::args().nth(1).map(|s| s.parse::<u64>()) {
        Some(Ok(seed)) => seed,
        _ => {
            eprintln!("usage: soak_origin SEED");
            std::process::exit(2);
        }
    };
    let origin = FaultOrigin::start(seed);
    let mut out = std::io::stdout().lock();
    let ready = writeln!(
        out,
        "{} {}",
        origin.addr(Port::Main),
        origin.addr(Port::Idempotent)
    );
    if ready.and_then(|()| out.flush()).is_err() {
        return;
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let answered = match words.as_slice() {
            ["stats"] => {
                let s = origin.stats();
                let mut text = format!(
                    "stats {} {} {} {}\n",
                    s.connections, s.requests, s.open, s.anomalies
                );
                for sample in &s.anomaly_samples {
                    text.push_str(&format!("anomaly {}\n", sample.replace('\n', " ")));
                }
                text.push_str("end\n");
                out.write_all(text.as_bytes())
            }
            ["wait-closed", millis] => {
                let limit = Duration::from_millis(millis.parse().unwrap_or(0));
                writeln!(out, "closed {}", origin.wait_all_closed(limit))
            }
            _ => break,
        };
        if answered.and_then(|()| out.flush()).is_err() {
            break;
        }
    }
}
