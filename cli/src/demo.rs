//! `wayfarer demo`: a tour of what the client does, with no network needed.
//!
//! The demo starts a small HTTP/1.1 origin in this process, on 127.0.0.1 and a free port
//! ([`origin`]), then runs each [`Step`] of [`STEPS`] against it on one client, printing the
//! `-v` timeline of every call on standard error and the response bodies on standard output.
//!
//! A step is the request to make, the origin's answer to it, and what to look for in the
//! timeline; adding a feature to the tour is adding a `Step` to the list.

mod origin;

use std::io::{self, Write};
use std::sync::Arc;

use wayfarer_blocking::{Client, Event, Request, RequestBuilder, Url};
use wayfarer_core::cookies::MemoryCookieJar;

use crate::exit::{Failure, code};
use crate::timeline::Timeline;
use origin::{Origin, Received};

/// One stop of the tour.
pub struct Step {
    /// A few words for the heading.
    pub title: &'static str,
    /// What the timeline shows for it.
    pub look_for: &'static str,
    /// The path the request goes to; the origin answers it, and any path under it
    /// (`/path/...`, so a step can redirect within itself), with [`Step::respond`].
    pub path: &'static str,
    /// Builds the request for the origin's URL of [`Step::path`].
    pub request: fn(Url) -> RequestBuilder,
    /// The origin's complete answer (status line, headers, body) to the request it received.
    pub respond: fn(&Received) -> Vec<u8>,
}

/// The tour, in order. Steps run on one client, so later ones can show connection reuse.
pub const STEPS: &[Step] = &[
    Step {
        title: "A plain GET",
        look_for: "the connect, the request head sent ('>'), the response head ('<'), and the \
                   connection going back to the pool",
        path: "/hello",
        request: Request::get,
        respond: |_| {
            response(
                "200 OK",
                "Content-Type: text/plain\r\n",
                b"Hello from the wayfarer demo origin!\n",
            )
        },
    },
    Step {
        title: "Keep-alive: the next call reuses the connection",
        look_for: "'using connection c1 (reused)' and no new connect",
        path: "/again",
        request: Request::get,
        respond: |_| {
            response(
                "200 OK",
                "Content-Type: text/plain\r\n",
                b"Same connection, second request.\n",
            )
        },
    },
    Step {
        title: "A chunked body",
        look_for: "'Transfer-Encoding: chunked' in the response head; the body arrives in pieces \
                   and is decoded as it is read",
        path: "/chunked",
        request: Request::get,
        respond: |_| {
            let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                            Transfer-Encoding: chunked\r\n\r\n"
                .to_vec();
            for piece in ["This body ", "came in ", "three chunks.\n"] {
                out.extend_from_slice(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes());
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        },
    },
    Step {
        title: "Expect: 100-continue",
        look_for: "the request head sent alone, the origin's '100 Continue' (an interim \
                   response), and only then the body",
        path: "/upload",
        request: |url| {
            Request::post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Expect", "100-continue")
                .body("name=wayfarer&step=4")
        },
        respond: |received| {
            let text = format!(
                "Received {} bytes after 100 Continue.\n",
                received.body.len()
            );
            response(
                "201 Created",
                "Content-Type: text/plain\r\n",
                text.as_bytes(),
            )
        },
    },
    Step {
        title: "A redirect, followed",
        look_for: "the origin's '302 Found', then 'following 302 with GET' its Location, and \
                   the second request on the same connection",
        path: "/redirect",
        request: Request::get,
        respond: |received| {
            if received.target == "/redirect" {
                response("302 Found", "Location: /redirect/here\r\n", b"")
            } else {
                response(
                    "200 OK",
                    "Content-Type: text/plain\r\n",
                    b"Followed the redirect to /redirect/here.\n",
                )
            }
        },
    },
    Step {
        title: "A gzip body, decoded",
        look_for: "'Accept-Encoding: gzip' sent by the client, 'Content-Encoding: gzip' and the \
                   compressed Content-Length in the response head, and more bytes read than \
                   that: the body is decoded as it is read",
        path: "/gzip",
        request: Request::get,
        respond: |received| {
            let text: String = (1..=6)
                .map(|i| format!("Line {i} of 6: sent gzip-compressed, decoded as it was read.\n"))
                .collect();
            let accepts_gzip = received.header("accept-encoding").is_some_and(|v| {
                v.split(|&b| b == b',')
                    .any(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"gzip"))
            });
            if !accepts_gzip {
                return response("200 OK", "Content-Type: text/plain\r\n", text.as_bytes());
            }
            response(
                "200 OK",
                "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n",
                &gzip(text.as_bytes()),
            )
        },
    },
    Step {
        title: "A cookie, stored and sent back",
        look_for: "the origin's 'Set-Cookie: visit=1' on a redirect, then the client's \
                   'Cookie: visit=1' on the next request: the cookie jar kept it",
        path: "/cookie",
        request: Request::get,
        respond: |received| {
            if received.target == "/cookie" {
                return response(
                    "302 Found",
                    "Set-Cookie: visit=1; Path=/cookie; HttpOnly\r\nLocation: /cookie/back\r\n",
                    b"",
                );
            }
            let cookie = received.header("cookie").unwrap_or(b"(none)");
            let text = format!(
                "Sent back the cookie: {}.\n",
                String::from_utf8_lossy(cookie)
            );
            response("200 OK", "Content-Type: text/plain\r\n", text.as_bytes())
        },
    },
];

/// A complete response with a `Content-Length` body.
fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// `bytes`, gzip-compressed.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::{Compression, write::GzEncoder};
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Runs the tour.
pub fn run() -> Result<(), Failure> {
    let origin = Origin::start(STEPS).map_err(|e| {
        Failure::new(
            code::COULDNT_CONNECT,
            format!("demo: could not start the local origin: {e}"),
        )
    })?;
    let timeline = Arc::new(Timeline::new());
    let listener = timeline.clone();
    let client = Client::builder()
        .cookie_jar(MemoryCookieJar::new())
        .event_listener(move |event: &Event| listener.on_event(event))
        .build()
        .map_err(|e| Failure::from_error(&e))?;
    eprintln!(
        "wayfarer demo: an HTTP/1.1 origin is listening on {}; each call's timeline follows \
         (the same as -v), and the response bodies go to standard output.",
        origin.authority()
    );
    for (i, step) in STEPS.iter().enumerate() {
        eprintln!(
            "\n== {}/{} {}\n   Look for: {}.",
            i + 1,
            STEPS.len(),
            step.title,
            step.look_for
        );
        let request = (step.request)(origin.url(step.path))
            .build()
            .map_err(|e| Failure::from_error(&e))?;
        let response = client
            .new_call(request)
            .execute()
            .map_err(|e| Failure::from_error(&e))?;
        let body = response
            .into_body()
            .bytes()
            .map_err(|e| Failure::from_error(&e))?;
        let mut out = io::stdout().lock();
        out.write_all(&body)
            .and_then(|()| out.flush())
            .map_err(|e| {
                Failure::new(
                    code::WRITE_ERROR,
                    format!("could not write to standard output: {e}"),
                )
            })?;
    }
    Ok(())
}
