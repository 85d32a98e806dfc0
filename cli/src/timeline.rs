//! `-v`: the call's events as a timeline on standard error.
//!
//! Each core event becomes one `*` line stamped with the milliseconds since the call started
//! (taken from the event's own timestamp, so the times are when things happened, not when they
//! were printed). The request head is printed as it was sent (`>` lines, from the
//! `RequestHeadersEnd` event) and the response head as it was received (`<` lines, printed by
//! the caller once `execute()` returns it, because the `ResponseHeadersEnd` event carries only
//! the status and version). For a response without a body the library delivers the events
//! that end the call before `execute()` returns, so the lines that follow
//! `ResponseHeadersEnd` are held back until the `<` lines are out, to keep the output in
//! order.
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

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

use indicatif::ProgressBar;
use wayfarer_core::{Event, EventKind, Headers, Instant, Response};

use crate::run::status_line;

/// The `-v` listener. Shared (through an `Arc`) between the client, which reports events to
/// it, and the command, which prints the response head and may show a progress bar.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The time of the first event (the call's start).
    start: Mutex<Option<Instant>>,
    /// The progress bar, once one is shown: lines are printed around it (hidden while writing)
    /// so that they do not garble it.
    progress: OnceLock<ProgressBar>,
    /// Lines held back between the `ResponseHeadersEnd` event and the `<` lines.
    held: Mutex<Option<String>>,
}

impl Timeline {
    /// A timeline that has seen no event yet.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Prints one event (and, for the sent request head, its lines).
    pub fn on_event(&self, event: &Event) {
        let start = {
            let mut start = self.start.lock().unwrap_or_else(|p| p.into_inner());
            *start.get_or_insert(event.at)
        };
        let ms = event.at.saturating_duration_since(start).as_secs_f64() * 1000.0;
        let mut text = format!("* [{ms:>9.1}ms] {}\n", event.kind);
        if let EventKind::RequestHeadersEnd { line, headers } = &event.kind {
            push_head(&mut text, '>', line, headers);
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match held.as_mut() {
            Some(held) => held.push_str(&text),
            None => self.emit(&text),
        }
        if matches!(event.kind, EventKind::ResponseHeadersEnd { .. }) {
            held.get_or_insert_with(String::new);
        }
    }

    /// Prints the response head as received, then the lines held back until it was printed.
    pub fn response_head<B>(&self, response: &Response<B>) {
        let mut text = String::new();
        push_head(&mut text, '<', &status_line(response), response.headers());
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        text.push_str(&held.take().unwrap_or_default());
        self.emit(&text);
    }

    /// Prints the lines held back for a response head that never came (the call failed after
    /// its head was parsed, on a framing error for example).
    pub fn flush_held(&self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(text) = held.take() {
            self.emit(&text);
        }
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

/// Appends curl-style head lines: `> GET / HTTP/1.1`, `> Name: value`, and a lone `>` for the
/// blank line that ends the head. Values that are not UTF-8 are shown lossily.
fn push_head(text: &mut String, mark: char, first: &str, headers: &Headers) {
    let _ = writeln!(text, "{mark} {first}");
    for (name, value) in headers.iter() {
        let _ = writeln!(text, "{mark} {name}: {}", String::from_utf8_lossy(value));
    }
    let _ = writeln!(text, "{mark}");
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
        push_head(&mut text, '>', "GET / HTTP/1.1", &headers);
        assert_eq!(
            text,
            "> GET / HTTP/1.1\n> Host: h.test\n> X-Bin: a\u{fffd}b\n>\n"
        );
    }
}
