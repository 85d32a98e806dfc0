//! `-w FORMAT`: curl's write-out, with its most used variables.
//!
//! The times come from the call's own events (each carries the moment it happened), so they
//! measure the call and not the printing: `time_namelookup` is when the name was resolved (or the
//! connect began, for an IP address), `time_connect` when TCP connected, `time_appconnect` when
//! TLS was established (0 without TLS), `time_starttransfer` when the response head arrived and
//! `time_total` when the call ended, all in seconds since the call started, printed as curl does
//! (`0.012345`). With `-L` the call spans every hop: `time_starttransfer` is the final response's,
//! `num_redirects` counts the redirects followed (not the library's other follow-ups, as curl
//! counts), and `url_effective` is the final response's URL.

use std::fmt::Write as _;
use std::sync::Mutex;

use wayfarer_core::{Event, EventKind, Instant};

/// A parsed `-w` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOut(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(Var),
    /// A `%{name}` curl may know but wayfarer does not: written as nothing, with a warning.
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    HttpCode,
    TimeNamelookup,
    TimeConnect,
    TimeAppconnect,
    TimeStarttransfer,
    TimeTotal,
    SizeDownload,
    SpeedDownload,
    NumConnects,
    NumRedirects,
    UrlEffective,
    ContentType,
    SizeHeader,
}

impl Var {
    const ALL: [(&'static str, Var); 14] = [
        ("http_code", Var::HttpCode),
        // curl's other name for it.
        ("response_code", Var::HttpCode),
        ("time_namelookup", Var::TimeNamelookup),
        ("time_connect", Var::TimeConnect),
        ("time_appconnect", Var::TimeAppconnect),
        ("time_starttransfer", Var::TimeStarttransfer),
        ("time_total", Var::TimeTotal),
        ("size_download", Var::SizeDownload),
        ("speed_download", Var::SpeedDownload),
        ("num_connects", Var::NumConnects),
        ("num_redirects", Var::NumRedirects),
        ("url_effective", Var::UrlEffective),
        ("content_type", Var::ContentType),
        ("size_header", Var::SizeHeader),
    ];
}

/// What the transfer produced, for filling in the variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The final status, if a response arrived.
    pub status: Option<u16>,
    /// The last URL requested, after redirects (without credentials).
    pub url: String,
    /// Redirects followed to the final response, if one arrived (otherwise the count is the
    /// one the events saw, [`Timings::redirects`]).
    pub num_redirects: Option<u64>,
    /// Body bytes received (after decompression, with `--compressed`).
    pub size_download: u64,
    /// The last response's Content-Type, trimmed; empty without one.
    pub content_type: String,
    /// The bytes of every response head received (status line, fields and the blank line,
    /// each CRLF-ended), redirects and interim (1xx) heads included: what `-i` writes before
    /// the body, as curl counts it.
    pub size_header: u64,
    /// The call's timings, from its events.
    pub timings: Timings,
}

/// Seconds since the call started at which each phase ended; `None` if it never happened.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    pub namelookup: Option<f64>,
    pub connect: Option<f64>,
    pub appconnect: Option<f64>,
    pub starttransfer: Option<f64>,
    pub total: Option<f64>,
    pub connects: u64,
    /// Redirects followed (follow-up events for a 3xx), counted even when the call fails.
    pub redirects: u64,
    /// The status of the last response head received, even when the call then failed (one
    /// redirect too many: curl's `http_code` is that redirect's status).
    pub status: Option<u16>,
}

impl WriteOut {
    /// Parses a format (clap's value parser for `-w`). Only an unfinished `%{` is an error.
    pub fn parse(format: &str) -> Result<WriteOut, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek().copied()) {
                ('%', Some('%')) => {
                    chars.next();
                    text.push('%');
                }
                ('%', Some('{')) => {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("unfinished %{{{name} in {format:?}")),
                        }
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(match Var::ALL.iter().find(|(n, _)| *n == name) {
                        Some((_, var)) => Piece::Var(*var),
                        None => Piece::Unknown(name),
                    });
                }
                ('\\', Some(escaped @ ('n' | 'r' | 't' | '\\'))) => {
                    chars.next();
                    text.push(match escaped {
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        _ => '\\',
                    });
                }
                (c, _) => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(WriteOut(pieces))
    }

    /// The names of `%{...}` variables wayfarer does not know, for a warning.
    pub fn unknown(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Unknown(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The format with its variables filled in from `report`.
    pub fn render(&self, report: &Report) -> String {
        let mut out = String::new();
        let seconds = |t: Option<f64>| format!("{:.6}", t.unwrap_or(0.0));
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Unknown(_) => {}
                Piece::Var(var) => {
                    let t = &report.timings;
                    let _ = match var {
                        Var::HttpCode => {
                            write!(out, "{:03}", report.status.or(t.status).unwrap_or(0))
                        }
                        Var::TimeNamelookup => write!(out, "{}", seconds(t.namelookup)),
                        Var::TimeConnect => write!(out, "{}", seconds(t.connect)),
                        Var::TimeAppconnect => write!(out, "{}", seconds(t.appconnect)),
                        Var::TimeStarttransfer => write!(out, "{}", seconds(t.starttransfer)),
                        Var::TimeTotal => write!(out, "{}", seconds(t.total)),
                        Var::SizeDownload => write!(out, "{}", report.size_download),
                        Var::SpeedDownload => {
                            // Bytes per second, as a whole number, as curl prints it.
                            let speed = match t.total {
                                Some(total) if total > 0.0 => {
                                    (report.size_download as f64 / total) as u64
                                }
                                _ => 0,
                            };
                            write!(out, "{speed}")
                        }
                        Var::NumConnects => write!(out, "{}", t.connects),
                        Var::NumRedirects => {
                            write!(out, "{}", report.num_redirects.unwrap_or(t.redirects))
                        }
                        Var::UrlEffective => write!(out, "{}", report.url),
                        Var::ContentType => write!(out, "{}", report.content_type),
                        Var::SizeHeader => write!(out, "{}", report.size_header),
                    };
                }
            }
        }
        out
    }
}

/// Collects [`Timings`] from a call's events (an event listener).
#[derive(Debug, Default)]
pub struct Clock {
    state: Mutex<ClockState>,
}

#[derive(Debug, Default)]
struct ClockState {
    start: Option<Instant>,
    timings: Timings,
}

impl Clock {
    /// Records one event.
    pub fn on_event(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let start = *state.start.get_or_insert(event.at);
        let at = event.at.saturating_duration_since(start).as_secs_f64();
        let t = &mut state.timings;
        match &event.kind {
            EventKind::DnsEnd { .. } => t.namelookup = Some(at),
            // An IP address needs no lookup: it is done when the connect starts.
            EventKind::ConnectStart { .. } => {
                t.namelookup.get_or_insert(at);
            }
            EventKind::ConnectEnd { .. } => {
                t.connect.get_or_insert(at);
                t.connects += 1;
            }
            EventKind::SecureConnectEnd { .. } => {
                t.appconnect.get_or_insert(at);
            }
            EventKind::ResponseHeadersEnd { status, .. } => {
                t.starttransfer = Some(at);
                t.status = Some(status.as_u16());
            }
            // curl counts redirects only, not the library's other follow-ups (a 408 or 503
            // sent again).
            EventKind::FollowUp { status, .. } if status.is_redirection() => t.redirects += 1,
            _ => {}
        }
        // The call's end is its last event.
        t.total = Some(at);
    }

    /// The timings so far.
    pub fn timings(&self) -> Timings {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).timings
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use wayfarer_core::{Client, Config, Headers, Now, Request, StatusCode, Version};

    use super::*;

    #[test]
    fn text_escapes_and_percent_signs() {
        let w = WriteOut::parse(r"a\tb\\c 100%% done\n").unwrap();
        assert_eq!(w.render(&Report::default()), "a\tb\\c 100% done\n");
        // A backslash before anything else, and a lone '%', stay as they are.
        let w = WriteOut::parse(r"\x 5% %").unwrap();
        assert_eq!(w.render(&Report::default()), r"\x 5% %");
        assert!(WriteOut::parse("%{http_code").is_err());
    }

    #[test]
    fn variables_are_filled_in_as_curl_prints_them() {
        let report = Report {
            status: Some(201),
            url: "http://h.test/x".into(),
            num_redirects: Some(2),
            size_download: 3000,
            content_type: "text/html; charset=utf-8".into(),
            size_header: 97,
            timings: Timings {
                namelookup: Some(0.001),
                connect: Some(0.002),
                appconnect: None,
                starttransfer: Some(0.5),
                total: Some(1.5),
                connects: 1,
                redirects: 2,
                status: Some(201),
            },
        };
        let w = WriteOut::parse(
            "%{http_code} %{time_namelookup} %{time_connect} %{time_appconnect} \
             %{time_starttransfer} %{time_total} %{size_download} %{speed_download} \
             %{num_connects} %{num_redirects} %{url_effective} [%{content_type}] \
             %{size_header}",
        )
        .unwrap();
        assert_eq!(w.unknown().count(), 0);
        assert_eq!(
            w.render(&report),
            "201 0.001000 0.002000 0.000000 0.500000 1.500000 3000 2000 1 2 http://h.test/x \
             [text/html; charset=utf-8] 97"
        );
        let w = WriteOut::parse("%{response_code}").unwrap();
        assert_eq!(w.unknown().count(), 0);
        assert_eq!(w.render(&report), "201");
        // No final response: the last status the events saw (curl's 000 for none), and the
        // redirects they counted.
        let w = WriteOut::parse("%{http_code} %{num_redirects}").unwrap();
        let failed = Report {
            timings: Timings {
                redirects: 3,
                ..Timings::default()
            },
            ..Report::default()
        };
        assert_eq!(w.render(&failed), "000 3");
        let too_many = Report {
            timings: Timings {
                redirects: 3,
                status: Some(302),
                ..Timings::default()
            },
            ..Report::default()
        };
        assert_eq!(w.render(&too_many), "302 3");
    }

    #[test]
    fn unknown_variables_are_reported_and_written_as_nothing() {
        let w = WriteOut::parse("[%{remote_ip}]").unwrap();
        assert_eq!(w.unknown().collect::<Vec<_>>(), ["remote_ip"]);
        assert_eq!(w.render(&Report::default()), "[]");
    }

    #[test]
    fn the_clock_reads_phase_times_from_events() {
        // Events of a real call on the sans-IO core, at literal times.
        let client: Client<()> = Client::new(
            Config::builder()
                .event_listener(|_: &Event| {})
                .build()
                .unwrap(),
        );
        let epoch = std::time::SystemTime::UNIX_EPOCH;
        let at = |ms: u64| Now::new(Instant::ZERO + Duration::from_millis(ms), epoch);
        let request = Request::get("http://127.0.0.1:8080/").build().unwrap();
        let call = client.start_call(at(1000), request);
        let clock = Clock::default();
        let event = |ms: u64, kind: EventKind| Event {
            call: call.id(),
            at: at(ms).mono,
            kind,
        };
        let addr = "127.0.0.1:8080".parse().unwrap();
        for e in [
            event(
                1000,
                EventKind::CallStart {
                    request: "GET /".into(),
                },
            ),
            event(1001, EventKind::ConnectStart { addr }),
            event(1004, EventKind::ConnectEnd { addr }),
            event(1250, EventKind::RequestHeadersStart),
            event(
                1300,
                EventKind::ResponseHeadersEnd {
                    status: StatusCode::OK,
                    version: Version::HTTP_11,
                    reason: "OK".into(),
                    headers: Headers::new(),
                },
            ),
            event(
                1400,
                EventKind::FollowUp {
                    status: StatusCode::FOUND,
                    method: wayfarer_core::Method::GET,
                    url: "http://127.0.0.1:8080/next".into(),
                },
            ),
            // A 503 sent again is a follow-up, but not a redirect.
            event(
                1450,
                EventKind::FollowUp {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    method: wayfarer_core::Method::GET,
                    url: "http://127.0.0.1:8080/next".into(),
                },
            ),
            event(1500, EventKind::CallEnd),
        ] {
            clock.on_event(&e);
        }
        let t = clock.timings();
        assert_eq!(t.namelookup, Some(0.001));
        assert_eq!(t.connect, Some(0.004));
        assert_eq!(t.appconnect, None);
        assert_eq!(t.starttransfer, Some(0.3));
        assert_eq!(t.total, Some(0.5));
        assert_eq!(t.connects, 1);
        assert_eq!(t.redirects, 1);
        assert_eq!(t.status, Some(200));
    }
}
