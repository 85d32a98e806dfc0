//! Several URLs in one invocation: one after another, or with `-Z`/`--parallel` several at once,
//! through the client's dispatcher (OkHttp's `enqueue`).
//!
//! Every transfer is enqueued on one client whose dispatcher allows `--parallel-max` calls at
//! once, to any host; without `-Z` each is enqueued once the one before it is done, so the
//! URLs go one after another. Each callback reads its body on a dispatcher thread; this thread
//! writes the outputs in the order the URLs were given, each as soon as it and the ones before
//! it are done, so output never interleaves.
//!
//! As curl does, every transfer runs whatever happened to the others, and the command's status
//! is the last transfer's one after another, or the first failure's (in URL order) with `-Z`;
//! the other failures are reported as they come. With `--fail-early` the first failure ends
//! the command: no later transfer starts, and those running are canceled.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, mpsc};
use std::time::SystemTime;

use wayfarer_blocking::{Call, Error, Method, Response};

use crate::args::Args;
use crate::cookies::CookieEngine;
use crate::credentials::Credentials;
use crate::data;
use crate::exit::{Failure, code};
use crate::hops::{Hops, failed_heads, take_this_threads_heads};
use crate::interim::{CallHeads, InterimHeads};
use crate::run::{
    binary_for_terminal, build_client, build_request, guards_terminal, parse_url, response_heads,
    unfollowable_redirect, write_error,
};
use crate::timeline::Timeline;

/// What one transfer produced: what to write, then why it failed, if it did (with
/// `--fail-with-body`, a response is written and fails the command).
type Outcome = (Vec<u8>, Option<Failure>);

/// Runs every URL of `args`; see the module docs.
pub fn run(args: &Args) -> Result<(), Failure> {
    let cookies = CookieEngine::load(&args.cookie, args.cookie_jar.as_deref(), SystemTime::now())?;
    let result = transfers(args, &cookies);
    let saved = cookies.save(SystemTime::now());
    result.and(saved)
}

fn transfers(args: &Args, cookies: &CookieEngine) -> Result<(), Failure> {
    // Read once (`-d @-` reads standard input), and sent to every URL, as curl does.
    let payload = data::Payload::read(&args.data_pieces, args.get)?;
    let method = match (&args.method, args.head, payload.has_body()) {
        (Some(method), _, _) => method.clone(),
        (None, true, _) => Method::HEAD,
        (None, false, true) => Method::POST,
        (None, false, false) => Method::GET,
    };
    let mut requests = Vec::new();
    for url in args.urls() {
        let (url, body) = payload.apply(parse_url(url)?)?;
        requests.push(build_request(
            args,
            cookies.literal(),
            method.clone(),
            url,
            body,
        )?);
    }
    // -u and the credentials of the first URL go to every transfer, as curl does with -u.
    let credentials = requests
        .first()
        .and_then(|r| Credentials::for_request(r, args.location_trusted));
    let at_once = if args.parallel {
        usize::from(args.parallel_max)
    } else {
        1
    };
    // -v prints every transfer's timeline; with -Z, their lines interleave as they happen.
    let timeline = args.verbose.then(|| Arc::new(Timeline::new()));
    // The interim (1xx) heads of every transfer and, with -L, the heads of the hops of each
    // (for a transfer that fails part way), each kept apart by its call.
    let interim = (args.include || args.head).then(InterimHeads::default);
    let hops = (args.follows_redirects() && interim.is_some()).then(Hops::default);
    let client = build_client(
        args,
        cookies,
        credentials,
        hops.clone(),
        timeline,
        None,
        interim.clone(),
    )?;
    let client = client
        .new_builder()
        // Transfers to one host reuse each other's connections.
        .max_idle_connections(at_once)
        .max_requests(at_once)
        .max_requests_per_host(at_once)
        .build()
        .map_err(|e| Failure::new(code::UNSUPPORTED_PROTOCOL, e.to_string()))?;
    let max_redirects = args
        .follows_redirects()
        .then(|| args.redirect_limit())
        .flatten();
    let (tx, done) = mpsc::channel::<(usize, Outcome)>();
    let calls: Vec<Call> = requests.into_iter().map(|r| client.new_call(r)).collect();
    let follows = args.follows_redirects();
    let (include, head, fail, with_body) = (
        args.include || args.head,
        args.head,
        args.fails_on_http_error(),
        args.fail_with_body,
    );
    // As with one URL, binary data is not written to a terminal.
    let guard = guards_terminal(args, true, io::stdout().is_terminal());
    let enqueue = |index: usize| {
        let Some(call) = calls.get(index) else {
            return;
        };
        let tx = tx.clone();
        let (hops, interim) = (hops.clone(), interim.clone());
        call.enqueue(move |_: &Call, result: Result<Response, Error>| {
            // The callback runs on the thread that ran the call.
            let (seen, interim) = take_this_threads_heads(hops.as_ref(), interim.as_ref());
            let outcome = match result {
                Ok(response) => match follows.then(|| unfollowable_redirect(&response)).flatten() {
                    // The head only, with -i or -I, as curl has written it by then.
                    Some(failure) => (heads_if(include, &response, &interim), Some(failure)),
                    None => output(response, &interim, include, head, fail, with_body, guard),
                },
                // As with one URL, every head received before the failure (none without -i).
                Err(e) => (
                    failed_heads(&seen, &interim),
                    Some(Failure::from_call_error(&e, max_redirects)),
                ),
            };
            let _ = tx.send((index, outcome));
        });
    };
    if args.parallel {
        (0..calls.len()).for_each(enqueue);
    } else {
        enqueue(0);
    }
    let mut outcomes: Vec<Option<Outcome>> = (0..calls.len()).map(|_| None).collect();
    let mut next = 0;
    let mut status = None;
    let mut out = io::stdout().lock();
    while next < calls.len() {
        let Ok((index, outcome)) = done.recv() else {
            break;
        };
        if let Some(slot) = outcomes.get_mut(index) {
            *slot = Some(outcome);
        }
        while let Some(Some((bytes, failure))) = outcomes.get_mut(next).map(Option::take) {
            next += 1;
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(|e| write_error("standard output", &e))?;
            if let Some(failure) = failure {
                if args.fail_early {
                    calls.iter().for_each(Call::cancel);
                    return Err(failure);
                }
                // The command's failure is reported by `main`; the others here, as they come.
                let last = next == calls.len();
                match status {
                    None if args.parallel || last => status = Some(failure),
                    _ if args.show_errors() => eprintln!("{failure}"),
                    _ => {}
                }
            }
            if !args.parallel {
                enqueue(next);
            }
        }
    }
    status.map_or(Ok(()), Err)
}

/// The response's heads (its interim heads among them) when `include` (`-i`, `-I`); else none.
fn heads_if(include: bool, response: &Response, interim: &CallHeads) -> Vec<u8> {
    if include {
        response_heads(response, interim)
    } else {
        Vec::new()
    }
}

/// What one response writes: its heads with `-i`/`-I` (its interim heads, `interim`, among
/// them), then its body (unless `-I`); with `--fail`, a status of 400 or more fails after the
/// heads, with no body, and with `--fail-with-body` fails after the response is written. With
/// `guard`, a binary body (a NUL byte near its start) is refused with status 23, after the
/// heads, as curl refuses it for a terminal.
fn output(
    response: Response,
    interim: &CallHeads,
    include: bool,
    head: bool,
    fail: bool,
    with_body: bool,
    guard: bool,
) -> Outcome {
    let http_error = (fail && response.status().as_u16() >= 400).then(|| {
        Failure::new(
            code::HTTP_RETURNED_ERROR,
            format!(
                "the requested URL returned error: {} ({})",
                response.status().as_u16(),
                response.request().redacted_url()
            ),
        )
    });
    let mut bytes = heads_if(include, &response, interim);
    if http_error.is_some() && !with_body {
        // No body; the head with -i or -I, which curl writes as it arrives.
        return (bytes, http_error);
    }
    if !head {
        let url = response.request().redacted_url();
        match response.bytes() {
            Ok(body) if guard && binary_for_terminal(0, &body) => {
                let failure = Failure::new(
                    code::WRITE_ERROR,
                    format!(
                        "binary output from {url} can mess up your terminal; send standard \
                         output to a file or a pipe, or fetch that URL alone with \
                         \"--output FILE\" (or \"--output -\" to write it to the terminal anyway)"
                    ),
                );
                return (bytes, Some(failure));
            }
            Ok(body) => bytes.extend_from_slice(&body),
            Err(e) => return (bytes, Some(Failure::from_call_error(&e, None))),
        }
    }
    (bytes, http_error)
}
