//! Collecting samples and printing them: per workload and client the median, minimum and
//! maximum over the rounds, the ratio of the median to the best peer's and to the floor's, and
//! system calls per request where counted. The output is Markdown, so a run can be pasted into
//! BENCHMARKS.md as it is.

use std::fmt::Write as _;

use crate::client::{About, Family, Style};
use crate::probe::Syscalls;
use crate::workload::{Size, Workload};

/// Everything measured for one workload and one client.
#[derive(Debug, Default)]
pub struct Cell {
    /// One value per round, in the workload's unit.
    pub values: Vec<f64>,
    /// Why the client did not run this workload at all.
    pub unsupported: Option<&'static str>,
    /// The first failure, if any round failed.
    pub failure: Option<String>,
    pub syscalls: Option<Result<Syscalls, String>>,
}

/// Median, minimum and maximum of a cell's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(values: &[f64]) -> Option<Stats> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Stats {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

/// A client as the report lists it.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub about: About,
    pub tls_provider: String,
}

/// All cells: `cells[workload][client]`.
#[derive(Debug)]
pub struct Results {
    pub workloads: Vec<Workload>,
    pub clients: Vec<ClientInfo>,
    pub cells: Vec<Vec<Cell>>,
}

impl Results {
    pub fn new(workloads: Vec<Workload>, clients: Vec<ClientInfo>) -> Results {
        let cells = workloads
            .iter()
            .map(|_| clients.iter().map(|_| Cell::default()).collect())
            .collect();
        Results {
            workloads,
            clients,
            cells,
        }
    }

    fn stats(&self, w: usize, c: usize) -> Option<Stats> {
        let cell = &self.cells[w][c];
        if cell.failure.is_some() {
            return None;
        }
        Stats::of(&cell.values)
    }

    /// The peer with the best median for workload `w`.
    pub fn best_peer(&self, w: usize) -> Option<(usize, Stats)> {
        let higher = self.workloads[w].metric.higher_is_better();
        (0..self.clients.len())
            .filter(|&c| self.clients[c].about.family == Family::Peer)
            .filter_map(|c| Some((c, self.stats(w, c)?)))
            .max_by(|(_, a), (_, b)| {
                let order = a.median.total_cmp(&b.median);
                if higher { order } else { order.reverse() }
            })
    }

    /// The floor that client `c` is compared with: the one with the same style.
    fn floor_for(&self, w: usize, c: usize) -> Option<Stats> {
        self.stats(w, self.floor_of(c)?)
    }

    /// The index of client `c`'s floor: the one with the same style.
    fn floor_of(&self, c: usize) -> Option<usize> {
        let style: Style = self.clients[c].about.style;
        self.clients
            .iter()
            .position(|info| info.about.family == Family::Floor && info.about.style == style)
    }

    /// Client `c`'s value ÷ its floor's in each round, summed up: the floor ran minutes apart
    /// from the client in the other rounds but moments apart in the same one, so on a machine
    /// whose speed drifts over a run this ratio is steadier than the ratio of the medians.
    /// `None` unless both ran every round.
    pub fn floor_by_round(&self, w: usize, c: usize) -> Option<Stats> {
        let floor = self.floor_of(c)?;
        let (own, theirs) = (&self.cells[w][c], &self.cells[w][floor]);
        if own.failure.is_some() || theirs.failure.is_some() {
            return None;
        }
        if own.values.len() != theirs.values.len() {
            return None;
        }
        let ratios: Vec<f64> = own
            .values
            .iter()
            .zip(&theirs.values)
            .map(|(a, b)| a / b)
            .collect();
        Stats::of(&ratios)
    }

    /// The ratio of client `c`'s median to the best peer's, and to its floor's.
    pub fn ratios(&self, w: usize, c: usize) -> (Option<f64>, Option<f64>) {
        let Some(own) = self.stats(w, c) else {
            return (None, None);
        };
        let peer = self.best_peer(w).map(|(_, best)| own.median / best.median);
        let floor = self.floor_for(w, c).map(|floor| own.median / floor.median);
        (peer, floor)
    }

    /// The whole report in Markdown.
    pub fn markdown(&self, preamble: &str, size: Size) -> String {
        let mut out = String::new();
        out.push_str(preamble);
        self.clients_table(&mut out);
        self.headline(&mut out);
        for w in 0..self.workloads.len() {
            self.workload_table(&mut out, w, size);
        }
        out
    }

    fn clients_table(&self, out: &mut String) {
        out.push_str("\n## Clients\n\n| client | kind | I/O | TLS |\n|---|---|---|---|\n");
        for info in &self.clients {
            let kind = match info.about.family {
                Family::Wayfarer => "wayfarer",
                Family::Peer => "peer",
                Family::Floor => "floor",
            };
            let style = match info.about.style {
                Style::Blocking => "blocking, a thread per concurrent request",
                Style::Async => "async, one thread",
            };
            let _ = writeln!(
                out,
                "| {} | {kind} | {style} | {} |",
                info.about.name, info.tls_provider
            );
        }
    }

    /// Each wayfarer runtime's ratios in every workload, side by side.
    fn headline(&self, out: &mut String) {
        let ours: Vec<usize> = (0..self.clients.len())
            .filter(|&c| self.clients[c].about.family == Family::Wayfarer)
            .collect();
        out.push_str("\n## Headline: wayfarer's median ÷ the best peer's (÷ its floor's)\n\n");
        out.push_str("| workload | best peer |");
        for &c in &ours {
            let _ = write!(out, " {} |", self.clients[c].about.name);
        }
        out.push_str("\n|---|---|");
        out.push_str(&"---:|".repeat(ours.len()));
        out.push('\n');
        for (w, workload) in self.workloads.iter().enumerate() {
            let best = self.best_peer(w).map_or("—".to_string(), |(c, stats)| {
                format!("{} {}", self.clients[c].about.name, number(stats.median))
            });
            let _ = write!(
                out,
                "| {} ({}) | {best} |",
                workload.id,
                workload.metric.unit()
            );
            for &c in &ours {
                let (peer, floor) = self.ratios(w, c);
                let _ = write!(out, " {} ({}) |", ratio(peer), ratio(floor));
            }
            out.push('\n');
        }
        out.push_str(
            "\nFor throughput above 1.00 is faster than the best peer; for RSS growth (W6) above \
             1.00 is more memory. Blocking clients are compared with the `std::net` floor, async \
             ones with the tokio floor.\n",
        );
        self.headline_by_round(out, &ours);
    }

    /// Each wayfarer runtime ÷ its floor, round by round (see [`Results::floor_by_round`]).
    fn headline_by_round(&self, out: &mut String, ours: &[usize]) {
        out.push_str(
            "\n### ÷ the floor, round by round: median (min–max) of each round's ratio\n\n\
             | workload |",
        );
        for &c in ours {
            let _ = write!(out, " {} |", self.clients[c].about.name);
        }
        out.push_str("\n|---|");
        out.push_str(&"---:|".repeat(ours.len()));
        out.push('\n');
        for (w, workload) in self.workloads.iter().enumerate() {
            let _ = write!(out, "| {} |", workload.id);
            for &c in ours {
                let _ = write!(out, " {} |", spread(self.floor_by_round(w, c)));
            }
            out.push('\n');
        }
    }

    fn workload_table(&self, out: &mut String, w: usize, size: Size) {
        let workload = &self.workloads[w];
        let metric = workload.metric;
        let better = if metric.higher_is_better() {
            "higher"
        } else {
            "lower"
        };
        let rounds = self.cells[w]
            .iter()
            .map(|cell| cell.values.len())
            .max()
            .unwrap_or(0);
        let _ = write!(
            out,
            "\n### {} — {}\n\n{}, {better} is better; median, min and max of {} of {}.\n\n",
            workload.id,
            workload.title,
            metric.unit(),
            match rounds {
                1 => "1 round".to_string(),
                n => format!("{n} rounds"),
            },
            workload.shape(size),
        );
        let with_syscalls = self.cells[w].iter().any(|cell| cell.syscalls.is_some());
        out.push_str("| client | median | min | max | ÷ best peer | ÷ floor |");
        out.push_str(if with_syscalls {
            " syscalls/req |\n"
        } else {
            "\n"
        });
        out.push_str("|---|---:|---:|---:|---:|---:|");
        out.push_str(if with_syscalls { "---:|\n" } else { "\n" });
        for (c, info) in self.clients.iter().enumerate() {
            let cell = &self.cells[w][c];
            let _ = write!(out, "| {} |", info.about.name);
            match (cell.unsupported, &cell.failure, self.stats(w, c)) {
                (Some(why), _, _) => {
                    let _ = write!(out, " n/a: {why} | | | | |");
                }
                (None, Some(failure), _) => {
                    let _ = write!(out, " failed: {} | | | | |", one_line(failure));
                }
                (None, None, Some(stats)) => {
                    let (peer, floor) = self.ratios(w, c);
                    let _ = write!(
                        out,
                        " {} | {} | {} | {} | {} |",
                        number(stats.median),
                        number(stats.min),
                        number(stats.max),
                        ratio(peer),
                        ratio(floor)
                    );
                }
                (None, None, None) => out.push_str(" not run | | | | |"),
            }
            if with_syscalls {
                match &cell.syscalls {
                    Some(Ok(calls)) => {
                        let _ = write!(out, " {:.1} |", calls.total);
                    }
                    Some(Err(e)) => {
                        let _ = write!(out, " failed: {} |", one_line(e));
                    }
                    None => out.push_str(" |"),
                }
            }
            out.push('\n');
        }
        if with_syscalls {
            self.syscalls_by_name(out, w);
        }
    }

    fn syscalls_by_name(&self, out: &mut String, w: usize) {
        out.push_str("\nSystem calls per request by name (0.05 and more):\n\n");
        out.push_str("| client | calls |\n|---|---|\n");
        for (c, info) in self.clients.iter().enumerate() {
            if let Some(Ok(calls)) = &self.cells[w][c].syscalls {
                let names: Vec<String> = calls
                    .by_name
                    .iter()
                    .map(|(name, n)| format!("{name} {n:.1}"))
                    .collect();
                let _ = writeln!(out, "| {} | {} |", info.about.name, names.join(", "));
            }
        }
    }
}

/// A value in a workload's unit: whole numbers, with one decimal below 100.
fn number(value: f64) -> String {
    if value.abs() < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("—".to_string(), |r| format!("{r:.2}"))
}

/// Ratios' median with their range: `0.91 (0.84–0.97)`.
fn spread(stats: Option<Stats>) -> String {
    stats.map_or("—".to_string(), |s| {
        format!("{:.2} ({:.2}–{:.2})", s.median, s.min, s.max)
    })
}

fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").replace('|', "/");
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(120).collect::<String>())
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload;

    fn about(name: &'static str, family: Family, style: Style) -> ClientInfo {
        ClientInfo {
            about: About {
                name,
                family,
                style,
            },
            tls_provider: "test".into(),
        }
    }

    #[test]
    fn stats_take_the_middle() {
        let odd = Stats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert_eq!(Stats::of(&[]), None);
    }

    #[test]
    fn ratios_use_the_best_peer_and_the_floor_of_the_same_style() {
        let workloads: Vec<_> = workload::all()
            .into_iter()
            .filter(|w| w.id == "W1/13B" || w.id == "W6")
            .collect();
        let clients = vec![
            about("ours", Family::Wayfarer, Style::Async),
            about("fast-peer", Family::Peer, Style::Blocking),
            about("slow-peer", Family::Peer, Style::Async),
            about("std", Family::Floor, Style::Blocking),
            about("tokio", Family::Floor, Style::Async),
        ];
        let mut results = Results::new(workloads, clients);
        for (w, values) in [
            [100.0, 200.0, 50.0, 400.0, 250.0],
            [10.0, 20.0, 5.0, 1.0, 2.0],
        ]
        .iter()
        .enumerate()
        {
            for (c, value) in values.iter().enumerate() {
                results.cells[w][c].values = vec![*value, *value];
            }
        }
        // Throughput: the best peer is the fastest; ours is async, so the tokio floor counts.
        assert_eq!(results.best_peer(0).map(|(c, _)| c), Some(1));
        assert_eq!(results.ratios(0, 0), (Some(0.5), Some(0.4)));
        // RSS: the best peer uses the least memory.
        assert_eq!(results.best_peer(1).map(|(c, _)| c), Some(2));
        assert_eq!(results.ratios(1, 0), (Some(2.0), Some(5.0)));
        // A failed cell has no ratios and does not count as a peer.
        results.cells[0][1].failure = Some("broken".into());
        assert_eq!(results.best_peer(0).map(|(c, _)| c), Some(2));
        let report = results.markdown("", Size::FULL);
        assert!(
            report.contains("| fast-peer | failed: broken |"),
            "{report}"
        );
    }
}

#[cfg(test)]
mod by_round {
    use super::*;
    use crate::workload;

    #[test]
    fn the_ratio_to_the_floor_is_taken_round_by_round() {
        let workloads: Vec<_> = workload::all()
            .into_iter()
            .filter(|w| w.id == "W1/13B")
            .collect();
        let info = |name, family, style| ClientInfo {
            about: About {
                name,
                family,
                style,
            },
            tls_provider: "test".into(),
        };
        let clients = vec![
            info("ours", Family::Wayfarer, Style::Blocking),
            info("std", Family::Floor, Style::Blocking),
        ];
        let mut results = Results::new(workloads, clients);
        // The machine slows down over the run: each round, ours is 0.9 of the floor, but the
        // medians compare a fast round of one with a slow round of the other.
        results.cells[0][0].values = vec![90.0, 45.0, 18.0];
        results.cells[0][1].values = vec![100.0, 50.0, 20.0];
        let by_round = results.floor_by_round(0, 0).unwrap();
        assert!((by_round.median - 0.9).abs() < 1e-9, "{by_round:?}");
        assert!((by_round.min - 0.9).abs() < 1e-9 && (by_round.max - 0.9).abs() < 1e-9);
        assert!(
            results
                .markdown("", Size::FULL)
                .contains("| W1/13B | 0.90 (0.90–0.90) |")
        );
        // A floor without every round gives no pairs.
        results.cells[0][1].values.pop();
        assert_eq!(results.floor_by_round(0, 0), None);
        // Nor does a floor that failed.
        results.cells[0][1].values.push(20.0);
        results.cells[0][1].failure = Some("broken".into());
        assert_eq!(results.floor_by_round(0, 0), None);
    }
}
