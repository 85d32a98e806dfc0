//! `-v`: the call's events as a timeline on standard error.
//!
//! Each core event becomes one `*` line stamped with the milliseconds since the call started
//! (taken from the event's own timestamp, so the times are when things happened, not when they
//! were printed). The request head is printed as it was sent (`>` lines, from the
//! `RequestHeadersEnd` event) and the response head as it was received (`<` lines, from the
//! `ResponseHeadersEnd` event), so everything comes out in the order it happened.
//!
//! ```text
//! * [    0.0ms] call start: GET http://127.0.0.1:8080/
//! * [    0.1ms] connecting to 127.0.0.1:8080
//! ...
//! > GET / HTTP/1.1
//! > Host: 127.0.0.1:8080
//! >
//! < HTTP/1.1 200 OK
//! < Content-Length: 5
//! <
//! ```
//!
//! A call is one timeline however many requests it makes: with `-L`, each redirect followed (and
//! each of the library's other follow-ups, or a retry on a fresh connection) is a line of its
//! own between one hop's response head and the next hop's request head, and the times keep
//! counting from the call's start, so the cost of every hop shows.
//!
//! ```text
//! < HTTP/1.1 302 Found
//! < Location: /next
//! <
//! * [    1.1ms] following 302 with GET http://127.0.0.1:8080/next
//! * [    1.2ms] using connection c1 (reused)
//! ...
//! > GET /next HTTP/1.1
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

use indicatif::ProgressBar;
use wayfarer_core::{CallId, Event, EventKind, Headers, Instant};

use crate::run::status_text;

/// The `-v` listener. Shared (through an `Arc`) between the client, which reports events to
/// it, and the command, which prints the response head and may show a progress bar.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The time each call started (the demo makes several calls one after another, and
    /// several URLs with `-Z` make them at once).
    starts: Mutex<HashMap<CallId, Instant>>,
    /// The progress bar, once one is shown: lines are printed around it (hidden while writing)
    /// so that they do not garble it.
    progress: OnceLock<ProgressBar>,
}

impl Timeline {
    /// A timeline that has seen no event yet.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Prints one event (and, for the sent request head, its lines).
    pub fn on_event(&self, event: &Event) {
        let start = {
            let mut starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
            // Each call's times count from its own start.
            if matches!(event.kind, EventKind::CallStart { .. }) {
                starts.remove(&event.call);
            }
            *starts.entry(event.call).or_insert(event.at)
        };
        let ms = event.at.saturating_duration_since(start).as_secs_f64() * 1000.0;
        let mut text = format!("* [{ms:>9.1}ms] {}\n", event.kind);
        match &event.kind {
            EventKind::RequestHeadersEnd { line, headers } => {
                push_head(&mut text, '>', line, headers, true)
            }
            EventKind::ResponseHeadersEnd {
                version,
                status,
                reason,
                headers,
            } => push_head(
                &mut text,
                '<',
                &status_text(*version, status.as_u16(), reason),
                headers,
                true,
            ),
            // curl marks no end of an interim (1xx) head: the next head follows at once.
            EventKind::InterimResponse {
                version,
                status,
                reason,
                headers,
                ..
            } => push_head(
                &mut text,
                '<',
                &status_text(*version, status.as_u16(), reason),
                headers,
                false,
            ),
            _ => {}
        }
        self.emit(&text);
    }

    /// From now on, prints around `bar`.
    pub fn set_progress(&self, bar: ProgressBar) {
        let _ = self.progress.set(bar);
    }

    /// Writes `text` to standard error in one piece. A failure to write diagnostics is not a
    /// reason to fail the transfer, so it is ignored.
    fn emit(&self, text: &str) {
        let write = || {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        };
        match self.progress.get() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// Appends curl-style head lines: `> GET / HTTP/1.1`, `> Name: value`, and (with `end`) a
/// lone `>` for the blank line that ends the head. Values that are not UTF-8 are shown lossily.
fn push_head(text: &mut String, mark: char, first: &str, headers: &Headers, end: bool) {
    let _ = writeln!(text, "{mark} {first}");
    for (name, value) in headers.iter() {
        let _ = writeln!(text, "{mark} {name}: {}", String::from_utf8_lossy(value));
    }
    if end {
        let _ = writeln!(text, "{mark}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_printed_curl_style() {
        let mut headers = Headers::new();
        headers.append("Host", "h.test").unwrap();
        headers.append("X-Bin", b"a\xffb").unwrap();
        let mut text = String::new();
        push_head(&mut text, '>', "GET / HTTP/1.1", &headers, true);
        assert_eq!(
            text,
            "> GET / HTTP/1.1\n> Host: h.test\n> X-Bin: a\u{fffd}b\n>\n"
        );
    }
}
