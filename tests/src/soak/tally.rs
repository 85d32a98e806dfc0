//! Counts: what was asked for, what came back, and every call that did not come to what its
//! case says.

use std::collections::BTreeMap;
use std::time::Duration;

use super::call::{Mismatch, Outcome, check};
use super::case::{Answer, Case, ReadMode, UploadKind, Verb};

/// How many mismatch messages a tally keeps (all are counted).
const KEPT: usize = 20;

/// The counts of one runtime's run (or of several, merged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Calls made.
    pub calls: u64,
    /// Calls whose final answer was a fault.
    pub faults: u64,
    /// What the origin's last answer to each call was, by name (faults, normal framings, or a
    /// redirect the client returned).
    pub answers: BTreeMap<&'static str, u64>,
    /// What calls came to, by outcome name.
    pub outcomes: BTreeMap<String, u64>,
    /// The other dimensions of the mix: methods, uploads, redirects, read modes.
    pub mix: BTreeMap<&'static str, u64>,
    /// Time calls took (execute and body), by final answer.
    pub time: BTreeMap<&'static str, Timing>,
    /// Calls that did not come to what their case says.
    pub mismatches: u64,
    /// Of those, calls whose body belonged to another case.
    pub poisoned: u64,
    /// The first few mismatches.
    pub samples: Vec<String>,
}

impl Tally {
    /// Counts one call of `case` that came to `outcome` after `took`, on a client whose read
    /// timeout is `read_timeout`.
    pub fn record(
        &mut self,
        case: &Case,
        seed: u64,
        outcome: &Outcome,
        took: Duration,
        read_timeout: Duration,
    ) {
        self.calls += 1;
        if case.is_fault() {
            self.faults += 1;
        }
        *self.answers.entry(case.served_name()).or_default() += 1;
        self.time
            .entry(case.served_name())
            .or_default()
            .add(Timing::of(took));
        *self.outcomes.entry(outcome.name()).or_default() += 1;
        for feature in features(case) {
            *self.mix.entry(feature).or_default() += 1;
        }
        if let Err(Mismatch { poisoned, message }) =
            check(case, &case.expect(seed), outcome, took, read_timeout)
        {
            self.mismatches += 1;
            if poisoned {
                self.poisoned += 1;
            }
            if self.samples.len() < KEPT {
                self.samples.push(message);
            }
        }
    }

    /// The longest call and the final answer it had.
    pub fn longest(&self) -> Option<(&'static str, Duration)> {
        self.time
            .iter()
            .map(|(&answer, t)| (answer, t.longest))
            .max_by_key(|&(_, longest)| longest)
    }

    /// Adds `other`'s counts to this one.
    pub fn merge(&mut self, other: Tally) {
        self.calls += other.calls;
        self.faults += other.faults;
        for (k, v) in other.answers {
            *self.answers.entry(k).or_default() += v;
        }
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        for (k, v) in other.mix {
            *self.mix.entry(k).or_default() += v;
        }
        for (k, timing) in other.time {
            self.time.entry(k).or_default().add(timing);
        }
        self.mismatches += other.mismatches;
        self.poisoned += other.poisoned;
        for s in other.samples {
            if self.samples.len() < KEPT {
                self.samples.push(s);
            }
        }
    }
}

/// How long some calls took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// Calls measured.
    pub calls: u64,
    /// Their total time.
    pub total: Duration,
    /// The shortest.
    pub shortest: Duration,
    /// The longest.
    pub longest: Duration,
}

impl Timing {
    fn of(took: Duration) -> Timing {
        Timing {
            calls: 1,
            total: took,
            shortest: took,
            longest: took,
        }
    }

    fn add(&mut self, other: Timing) {
        if self.calls == 0 {
            *self = other;
            return;
        }
        self.calls += other.calls;
        self.total += other.total;
        self.shortest = self.shortest.min(other.shortest);
        self.longest = self.longest.max(other.longest);
    }

    /// The mean time, in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.total.as_secs_f64() * 1000.0 / self.calls.max(1) as f64
    }
}

/// The mix dimensions `case` counts in.
fn features(case: &Case) -> Vec<&'static str> {
    let mut out = Vec::new();
    out.push(match case.verb {
        Verb::Get => "GET",
        Verb::Head => "HEAD",
        Verb::Post => "POST",
    });
    if let Some(upload) = case.upload {
        out.push(match upload.kind {
            UploadKind::Bytes => "upload: bytes",
            UploadKind::SizedStream => "upload: one-shot, sized",
            UploadKind::ChunkedStream => "upload: one-shot, chunked",
        });
    }
    if !case.hops.is_empty() {
        out.push("redirected");
        if case.returned() < case.hops.len() {
            out.push("redirect returned (one-shot body)");
        }
    }
    if let Answer::Ok { interim: true, .. } = case.answer {
        out.push("103 Early Hints first");
    }
    out.push(match case.read {
        ReadMode::All => "read: whole body",
        ReadMode::Drop => "read: dropped unread",
        ReadMode::Partial(_) => "read: part, then dropped",
    });
    out
}
