//! One invocation: build the client and the request from the arguments, run the call, write
//! the response.
//!
//! The body is streamed from the connection to the output in large pieces and never held
//! whole, so downloading a file larger than memory works, and output to a pipe appears as it
//! arrives.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use indicatif::{ProgressBar, ProgressStyle};
use wayfarer_blocking::{Body, Cache, Certificate, Client, Event, Method, Request, RequestBody};
use wayfarer_core::{Response, Url, basic_credentials};

use crate::args::Args;
use crate::cookies::CookieEngine;
use crate::credentials::Credentials;
use crate::data;
use crate::exit::{Failure, code};
use crate::hops::{Hop, Hops, failed_heads, take_this_threads_heads};
use crate::interim::{CallHeads, InterimHeads};
use crate::timeline::Timeline;
use crate::write_out::{Clock, Report};

/// Size of each body read and write: large enough that a fast download costs few system calls.
const CHUNK: usize = 256 * 1024;

/// The size `--cache-dir` keeps its cache under.
const CACHE_MAX_BYTES: u64 = 50 * 1024 * 1024;

/// Bodies larger than this (or of unknown length) get a progress bar when saved to a file.
const PROGRESS_THRESHOLD: u64 = 1024 * 1024;

/// Runs the command described by `args` (a URL, not a subcommand).
pub fn run(args: &Args) -> Result<(), Failure> {
    let clock = args.write_out.as_ref().map(|_| Arc::new(Clock::default()));
    let mut report = Report::default();
    let cookies = CookieEngine::load(&args.cookie, args.cookie_jar.as_deref(), SystemTime::now())?;
    let result = transfer(args, &cookies, clock.clone(), &mut report);
    // curl writes the jar whatever happened, keeping what the hops that succeeded set.
    let saved = cookies.save(SystemTime::now());
    let result = result.and(saved);
    if let (Some(format), Some(clock)) = (&args.write_out, clock) {
        if args.show_errors() {
            for name in format.unknown() {
                eprintln!("wayfarer: unknown --write-out variable: '{name}'");
            }
        }
        report.timings = clock.timings();
        let mut out = io::stdout().lock();
        out.write_all(format.render(&report).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| write_error("standard output", &e))?;
    }
    result
}

/// With `-L`, a redirect the library handed back instead of following, because its
/// `Location` is not a URL (curl's exit 3) or names a scheme other than http and https (exit
/// 1): curl fails such a transfer rather than write the redirect's body.
pub(crate) fn unfollowable_redirect<B>(response: &Response<B>) -> Option<Failure> {
    if !matches!(response.status().as_u16(), 300..=303 | 307 | 308) {
        return None;
    }
    let location = response.header("location")?;
    match response.request().url().join(location) {
        Err(e) => Some(Failure::new(
            code::URL_MALFORMAT,
            format!("the redirect's Location {location:?} is not a URL: {e}"),
        )),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => Some(Failure::new(
            code::UNSUPPORTED_PROTOCOL,
            format!(
                "the redirect goes to a {}: URL; only http and https are supported",
                url.scheme()
            ),
        )),
        Ok(_) => None,
    }
}

/// Sends the request and writes the response, recording what `-w` reports in `report`.
fn transfer(
    args: &Args,
    cookies: &CookieEngine,
    clock: Option<Arc<Clock>>,
    report: &mut Report,
) -> Result<(), Failure> {
    let url = parse_url(args.url.as_deref().unwrap_or_default())?;
    // `-o -` is standard output, as with curl.
    let output_path = match (args.output_file(), args.remote_name) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, true) => Some(remote_name(&url)?),
        (None, false) => None,
    };
    let (url, body) = data::Payload::read(&args.data_pieces, args.get)?.apply(url)?;
    let method = match (&args.method, args.head, &body) {
        (Some(method), _, _) => method.clone(),
        (None, true, _) => Method::HEAD,
        (None, false, Some(_)) => Method::POST,
        (None, false, None) => Method::GET,
    };
    let request = build_request(args, cookies.literal(), method, url, body)?;
    let credentials = Credentials::for_request(&request, args.location_trusted);
    let timeline = args.verbose.then(|| Arc::new(Timeline::new()));
    let shows_heads =
        args.include || args.head || args.dump_header.is_some() || args.write_out.is_some();
    // Only a redirect chain can fail after some of its final heads arrived (any call can after
    // interim ones); they are recorded only when something would show them, as are the interim
    // (1xx) heads.
    let hops = (args.follows_redirects() && shows_heads).then(Hops::default);
    let interim = shows_heads.then(InterimHeads::default);
    let client = build_client(
        args,
        cookies,
        credentials,
        hops.clone(),
        timeline.clone(),
        clock,
        interim.clone(),
    )?;
    report.url = request.url().to_string();

    let call = client.new_call(request);
    let max_redirects = args
        .follows_redirects()
        .then(|| args.redirect_limit())
        .flatten();
    let result = call.execute();
    let (seen, interim) = take_this_threads_heads(hops.as_ref(), interim.as_ref());
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            let failure = Failure::from_call_error(&e, max_redirects);
            if shows_heads {
                failed_chain(
                    args,
                    output_path.as_deref(),
                    &seen,
                    &interim,
                    &failure,
                    report,
                )?;
            }
            return Err(failure);
        }
    };
    let priors = prior_responses(&response);
    report.status = Some(response.status().as_u16());
    report.url = response.request().url().to_string();
    report.num_redirects = Some(priors.iter().filter(|p| p.is_redirect()).count() as u64);
    report.content_type = content_type(response.headers());
    let heads = || response_heads(&response, &interim);
    if args.write_out.is_some() {
        report.size_header = heads().len() as u64;
    }
    if let Some(path) = &args.dump_header {
        dump_header(path, &heads())?;
    }
    if let Some(failure) = args
        .follows_redirects()
        .then(|| unfollowable_redirect(&response))
        .flatten()
    {
        write_heads_only(args, output_path.as_deref(), &heads())?;
        return Err(failure);
    }
    let http_error = (args.fails_on_http_error() && response.status().as_u16() >= 400).then(|| {
        Failure::new(
            code::HTTP_RETURNED_ERROR,
            format!(
                "the requested URL returned error: {} {} ({} {})",
                response.status().as_u16(),
                response.reason(),
                response.request().method_ref(),
                response.request().redacted_url()
            ),
        )
    });
    // --fail stops here, writing no body (the head only, with -i or -I, as curl has written it
    // by then); --fail-with-body writes the response first.
    let http_error = match http_error {
        Some(failure) if !args.fail_with_body => {
            write_heads_only(args, output_path.as_deref(), &heads())?;
            return Err(failure);
        }
        other => other,
    };

    let mut output = Output::open(output_path.as_deref())?;
    if args.include || args.head {
        output.write(&heads())?;
    }
    if !args.head {
        let progress = show_progress(args, &response).then(|| progress_bar(&response));
        if let (Some(bar), Some(timeline)) = (&progress, &timeline) {
            timeline.set_progress(bar.clone());
        }
        let guard = guards_terminal(args, output_path.is_none(), io::stdout().is_terminal());
        report.size_download = copy_body(response, &mut output, progress.as_ref(), guard)?;
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
    }
    output.finish()?;
    http_error.map_or(Ok(()), Err)
}

/// For a transfer that fails once its final head is in (`--fail`, a redirect `-L` cannot
/// follow): the heads, with `-i` or `-I`, and no body. curl writes a head as it arrives, so it
/// has written them by the time it fails the transfer; without `-i` or `-I` nothing is written
/// and no output file is made.
fn write_heads_only(args: &Args, output_path: Option<&Path>, heads: &[u8]) -> Result<(), Failure> {
    if args.include || args.head {
        let mut output = Output::open(output_path)?;
        output.write(heads)?;
        output.finish()?;
    }
    Ok(())
}

/// Writes what curl has written by the time a call fails: every head received (see
/// [`failed_heads`]; `hops` are recorded only with `-L`), for `-i`, `-I` and `-D`. After
/// one redirect too many, the last URL requested is `%{url_effective}`, as with curl.
fn failed_chain(
    args: &Args,
    output_path: Option<&Path>,
    hops: &[Hop],
    interim: &CallHeads,
    failure: &Failure,
    report: &mut Report,
) -> Result<(), Failure> {
    let heads = failed_heads(hops, interim);
    if heads.is_empty() {
        return Ok(());
    }
    report.size_header = heads.len() as u64;
    if let Some(last) = hops.last() {
        if failure.code == code::TOO_MANY_REDIRECTS {
            report.url = last.url.to_string();
        }
        report.content_type = last.content_type.clone();
    }
    if let Some(path) = &args.dump_header {
        dump_header(path, &heads)?;
    }
    write_heads_only(args, output_path, &heads)
}

/// `%{content_type}`: the last Content-Type field's value, trimmed, as curl reports it.
pub(crate) fn content_type(headers: &wayfarer_core::Headers) -> String {
    headers
        .get_all("content-type")
        .last()
        .map(|value| String::from_utf8_lossy(value).trim().to_string())
        .unwrap_or_default()
}

/// The file name `-O` saves to: the URL's last path segment, as written in the URL (curl does
/// not decode it either, so it can hold no `/`).
fn remote_name(url: &Url) -> Result<PathBuf, Failure> {
    match url.path_segments().and_then(|mut s| s.next_back()) {
        Some(name) if !name.is_empty() && name != "." && name != ".." => Ok(PathBuf::from(name)),
        _ => {
            let mut shown = url.clone();
            shown.set_query(None);
            let _ = shown.set_password(None);
            let _ = shown.set_username("");
            Err(Failure::new(
                code::WRITE_ERROR,
                format!("-O: the URL {shown} names no file to save to; use -o FILE"),
            ))
        }
    }
}

/// Writes the response head for `-D`: to standard output for `-`, else to the file.
fn dump_header(path: &Path, head: &[u8]) -> Result<(), Failure> {
    if path == Path::new("-") {
        let mut out = io::stdout().lock();
        return out
            .write_all(head)
            .and_then(|()| out.flush())
            .map_err(|e| write_error("standard output", &e));
    }
    let name = path.display().to_string();
    std::fs::write(path, head).map_err(|e| write_error(&name, &e))
}

/// Parses the URL as curl does: one without a scheme is taken as `http://`. Schemes other than
/// http and https exit 1, as curl's "unsupported protocol" does; anything unparsable exits 3.
pub(crate) fn parse_url(text: &str) -> Result<Url, Failure> {
    let text = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&text)
        .map_err(|e| Failure::new(code::URL_MALFORMAT, format!("malformed URL {text:?}: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Failure::new(
            code::UNSUPPORTED_PROTOCOL,
            format!("unsupported protocol {other:?} (only http and https)"),
        )),
    }
}

/// The client for one call.
///
/// Read and write timeouts are off, as in curl: a slow server is not an error unless
/// `--max-time` says so (the library's default of 10 s between reads would break long polls
/// and slow APIs that curl handles). The connect timeout keeps the library's 10 s default.
/// Nothing is pooled: the process exits after one call.
///
/// Where the library's defaults follow OkHttp and curl's differ, the command follows curl:
/// redirects are followed only with `-L` (at most `--max-redirs`, from https to http too), and
/// gzip is asked for and decoded only with `--compressed` (then with no cap on the decoded
/// size, which curl does not have either). `credentials`, if any, go to the hops curl sends
/// them to.
pub(crate) fn build_client(
    args: &Args,
    cookies: &CookieEngine,
    credentials: Option<Credentials>,
    hops: Option<Hops>,
    timeline: Option<Arc<Timeline>>,
    clock: Option<Arc<Clock>>,
    interim: Option<InterimHeads>,
) -> Result<Client, Failure> {
    let mut builder = Client::builder()
        .read_timeout(None)
        .write_timeout(None)
        .call_timeout(args.max_time)
        .max_idle_connections(0)
        .follow_redirects(args.follows_redirects())
        .follow_ssl_redirects(true)
        .gzip(args.compressed);
    if args.follows_redirects() {
        builder = builder.max_follow_ups(args.redirect_limit().unwrap_or(u32::MAX));
    }
    if args.compressed {
        builder = builder.max_decompressed_bytes(None);
    }
    builder = cookies.configure(builder, args.sets_header("cookie"));
    if let Some(credentials) = credentials {
        builder = builder.network_interceptor(credentials);
    }
    if let Some(hops) = hops {
        builder = builder.network_interceptor(hops);
    }
    if let Some(timeout) = args.connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    if let Some(agent) = &args.user_agent {
        builder = builder.user_agent(agent);
    }
    if args.removes_header("user-agent") {
        builder = builder.user_agent("");
    }
    if let Some(dir) = &args.cache_dir {
        match Cache::new(dir, CACHE_MAX_BYTES) {
            Ok(cache) => builder = builder.cache(cache),
            Err(e) if args.show_errors() => {
                eprintln!("wayfarer: {}; going on without a cache", e.message());
            }
            Err(_) => {}
        }
    }
    if let Some(path) = &args.cacert {
        // As curl (OpenSSL's partial chains) does: a certificate in the file may be a root, or
        // the very certificate the server presents.
        for certificate in load_certificates(path)? {
            builder = builder
                .add_root_certificate(certificate.clone())
                .add_trusted_server_certificate(certificate);
        }
    }
    builder = crate::tls::configure(builder, args)?;
    builder = crate::proxy::configure(builder, args, |name| std::env::var(name).ok())?;
    if timeline.is_some() || clock.is_some() || interim.is_some() {
        builder = builder.event_listener(move |event: &Event| {
            if let Some(timeline) = &timeline {
                timeline.on_event(event);
            }
            if let Some(clock) = &clock {
                clock.on_event(event);
            }
            if let Some(interim) = &interim {
                interim.on_event(event);
            }
        });
    }
    // The user agent was checked by the argument parser, so what can still fail here is the
    // trust store built from --cacert.
    builder
        .build()
        .map_err(|e| Failure::new(code::SSL_CACERT_BADFILE, e.to_string()))
}

fn load_certificates(path: &Path) -> Result<Vec<Certificate>, Failure> {
    let bad = |why: String| {
        Failure::new(
            code::SSL_CACERT_BADFILE,
            format!(
                "could not load CA certificates from {}: {why}",
                path.display()
            ),
        )
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.message().to_string()))
}

pub(crate) fn build_request(
    args: &Args,
    literal_cookies: Option<&str>,
    method: Method,
    url: Url,
    body: Option<RequestBody>,
) -> Result<Request, Failure> {
    let mut builder = Request::builder(method, url);
    for (name, value) in &args.headers {
        if let Some(value) = value {
            builder = builder.header(name, value);
        }
    }
    // Set or removed (`-H 'Name:'`): either way, the command adds no field of that name.
    let sets = |field: &str| args.sets_header(field);
    // -u replaces the URL's credentials (the request builder keeps the caller's field over the
    // URL's), and an Authorization header given with -H wins over both, as with curl.
    if let Some((user, password)) = &args.user {
        if !sets("authorization") {
            builder = builder.header("Authorization", basic_credentials(user, password));
        }
    }
    // -b 'a=1' sends its cookies as they are; a Cookie header given with -H wins, as with curl.
    if let Some(cookies) = literal_cookies {
        if !sets("cookie") {
            builder = builder.header("Cookie", cookies);
        }
    }
    // curl sends `Accept: */*` unless told otherwise; some servers answer a request without
    // an Accept field differently (an error page, or a format meant for browsers).
    if !sets("accept") {
        builder = builder.header("Accept", "*/*");
    }
    let sets_content_type = sets("content-type");
    if let Some(body) = body {
        if !sets_content_type {
            builder = builder.header("Content-Type", "application/x-www-form-urlencoded");
        }
        builder = builder.body(body);
    }
    let mut request = builder
        .build()
        .map_err(|e| Failure::new(code::URL_MALFORMAT, e.to_string()))?;
    // `-H 'Authorization:'` also keeps the URL's credentials off the wire, as with curl (the
    // request made them a field of its own, which no -H above replaced).
    if args.removes_header("authorization") {
        request.headers_mut().remove("authorization");
    }
    Ok(request)
}

/// `HTTP/1.1 200 OK`, or `HTTP/1.1 200` when the server sent no reason phrase.
pub fn status_line<B>(response: &Response<B>) -> String {
    status_text(
        response.version(),
        response.status().as_u16(),
        response.reason(),
    )
}

/// `HTTP/1.1 200 OK` (without the reason when the server sent none).
pub fn status_text(version: wayfarer_core::Version, code: u16, reason: &str) -> String {
    let version = format!("{version:?}");
    match reason {
        "" => format!("{version} {code}"),
        reason => format!("{version} {code} {reason}"),
    }
}

/// The responses that led to `response` (redirects followed, and the library's other
/// follow-ups), the first one first.
pub(crate) fn prior_responses<B>(response: &Response<B>) -> Vec<&Response<()>> {
    let mut priors: Vec<&Response<()>> =
        std::iter::successors(response.prior_response(), |p| p.prior_response()).collect();
    priors.reverse();
    priors
}

/// What `-i` writes before the body of `response`: the head of each response of its chain
/// (the redirects and other follow-ups first), as received, each after the interim (1xx) heads
/// its exchange received (`interim`, the call's). A response the cache answered alone had no
/// exchange, so it takes no interim heads from the next one.
pub(crate) fn response_heads<B>(response: &Response<B>, interim: &CallHeads) -> Vec<u8> {
    let mut heads = Vec::new();
    let mut exchange = 0;
    let mut push = |network: Option<&Response<()>>, head: Vec<u8>| {
        if network.is_some() {
            heads.extend_from_slice(interim.before(exchange));
            exchange += 1;
        }
        heads.extend(head);
    };
    for prior in prior_responses(response) {
        push(prior.network_response(), head_bytes(as_received(prior)));
    }
    let network = response.network_response();
    push(
        network,
        network.map_or_else(|| head_bytes(response), head_bytes),
    );
    heads
}

/// A response as the server sent it: before `--compressed` decoding removed `Content-Encoding`
/// and `Content-Length` (curl's `-i` shows them).
pub(crate) fn as_received(response: &Response<()>) -> &Response<()> {
    response.network_response().unwrap_or(response)
}

/// The response head for `-i` and `-I`: status line and fields in the order and case they were
/// received, CRLF-terminated as on the wire.
pub(crate) fn head_bytes<B>(response: &Response<B>) -> Vec<u8> {
    wire_head(&status_line(response), response.headers())
}

/// A head as `-i` writes it: `status_line`, each field, and the empty line, CRLF-ended.
pub(crate) fn wire_head(status_line: &str, headers: &wayfarer_core::Headers) -> Vec<u8> {
    let mut out = status_line.as_bytes().to_vec();
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers.iter() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A progress bar only helps a person watching a long download: the body goes to a file (on
/// standard output it would mix with the data), standard error is a terminal, `-s` is off,
/// and the body is large or of unknown size.
fn show_progress(args: &Args, response: &Response<Body>) -> bool {
    (args.output_file().is_some() || args.remote_name)
        && !args.silent
        && io::stderr().is_terminal()
        && response
            .content_length()
            .is_none_or(|len| len > PROGRESS_THRESHOLD)
}

fn progress_bar(response: &Response<Body>) -> ProgressBar {
    match response.content_length() {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{bytes:>10}/{total_bytes:<10} {wide_bar} {bytes_per_sec:>12} {eta:>4}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {bytes:>10} {bytes_per_sec:>12} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    }
}

/// How much of the body is looked at for a NUL byte before it goes to a terminal (curl's
/// figure).
pub(crate) const BINARY_SNIFF_BYTES: u64 = 2000;

/// Whether the body is checked for binary data before it is written: as curl does, when it
/// goes to standard output, that is a terminal, and `-o` (`-o -` to insist) was not given.
pub(crate) fn guards_terminal(args: &Args, to_stdout: bool, stdout_is_terminal: bool) -> bool {
    to_stdout && stdout_is_terminal && args.output.is_none()
}

/// Whether `chunk`, which follows `written` bytes of the body, is binary data curl would not
/// write to a terminal: a NUL byte in the body's first [`BINARY_SNIFF_BYTES`] (only the part
/// of `chunk` within them is looked at).
pub(crate) fn binary_for_terminal(written: u64, chunk: &[u8]) -> bool {
    let left = BINARY_SNIFF_BYTES.saturating_sub(written);
    let within = usize::try_from(left).map_or(chunk.len(), |n| n.min(chunk.len()));
    chunk[..within].contains(&0)
}

/// Streams the body to `output` in [`CHUNK`]-sized reads and returns its size. Read and write
/// failures get different exit statuses, which is why this is a loop and not `io::copy`. With
/// `guard`, binary data is refused (exit 23) before any of it reaches the terminal.
fn copy_body(
    response: Response<Body>,
    output: &mut Output,
    progress: Option<&ProgressBar>,
    guard: bool,
) -> Result<u64, Failure> {
    let mut body = response.into_body();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = body
            .read_bytes(&mut buf)
            .map_err(|e| Failure::from_error(&e))?;
        if n == 0 {
            return Ok(total);
        }
        if guard && binary_for_terminal(total, &buf[..n]) {
            return Err(Failure::new(
                code::WRITE_ERROR,
                "binary output can mess up your terminal; use \"--output -\" to write it to \
                 the terminal anyway, or \"--output FILE\" to save it to a file",
            ));
        }
        total += n as u64;
        output.write(&buf[..n])?;
        if let Some(bar) = progress {
            bar.inc(n as u64);
        }
    }
}

/// Where the response goes: standard output or the `-o` file.
enum Output {
    Stdout(io::StdoutLock<'static>),
    File { file: File, path: String },
}

impl Output {
    /// Opens the destination. The file is created only once the response head is in (and
    /// `--fail` has let it through), so a failed call leaves no empty file behind.
    fn open(path: Option<&Path>) -> Result<Output, Failure> {
        match path {
            None => Ok(Output::Stdout(io::stdout().lock())),
            Some(path) => {
                let name = path.display().to_string();
                let file = File::create(path).map_err(|e| write_error(&name, &e))?;
                Ok(Output::File { file, path: name })
            }
        }
    }

    /// Writes `bytes`. Standard output is flushed at once, so that a stream read through a
    /// pipe (server-sent events, a log tail) appears as it arrives; the body arrives in large
    /// pieces, so this costs little.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        match self {
            Output::Stdout(out) => out
                .write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(|e| write_error("standard output", &e)),
            Output::File { file, path } => file.write_all(bytes).map_err(|e| write_error(path, &e)),
        }
    }

    /// Flushes what standard output still buffers. A file is written unbuffered, so a full
    /// disk has already been reported by [`Output::write`].
    fn finish(self) -> Result<(), Failure> {
        match self {
            Output::Stdout(mut out) => out.flush().map_err(|e| write_error("standard output", &e)),
            Output::File { .. } => Ok(()),
        }
    }
}

pub(crate) fn write_error(what: &str, e: &io::Error) -> Failure {
    Failure::new(code::WRITE_ERROR, format!("could not write to {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_without_a_scheme_are_http_and_other_schemes_are_refused() {
        assert_eq!(
            parse_url("example.com/a").unwrap().as_str(),
            "http://example.com/a"
        );
        assert_eq!(parse_url("ftp://h/").unwrap_err().code, 1);
        assert_eq!(parse_url("http://[::1/").unwrap_err().code, 3);
        assert_eq!(parse_url("http://").unwrap_err().code, 3);
    }

    #[test]
    fn binary_bodies_are_kept_off_a_terminal_unless_output_is_given() {
        use clap::Parser;
        let args = |extra: &[&str]| {
            let mut argv = vec!["wayfarer"];
            argv.extend_from_slice(extra);
            argv.push("http://h/");
            Args::try_parse_from(argv).unwrap()
        };
        assert!(guards_terminal(&args(&[]), true, true));
        assert!(guards_terminal(&args(&["-i", "-s"]), true, true));
        assert!(!guards_terminal(&args(&[]), true, false), "a pipe or file");
        assert!(!guards_terminal(&args(&["-o", "-"]), true, true));
        assert!(!guards_terminal(&args(&["-O"]), false, true));

        assert!(binary_for_terminal(0, b"GIF89a\0\x01"));
        assert!(binary_for_terminal(1999, b"\0"));
        assert!(!binary_for_terminal(0, "text, even UTF-8: é\n".as_bytes()));
        assert!(
            !binary_for_terminal(2000, b"\0"),
            "only the start is looked at"
        );
        let mut late = vec![b'a'; 3000];
        late[2500] = 0;
        assert!(
            !binary_for_terminal(0, &late),
            "a NUL past the first 2000 bytes of a large first chunk"
        );
        assert!(
            binary_for_terminal(1000, &late[2000..]),
            "body byte 1500 is a NUL"
        );
        assert!(
            !binary_for_terminal(1500, &late[2000..]),
            "body byte 2000 is past the start"
        );
    }

    #[test]
    fn remote_names_are_the_last_path_segment() {
        let name = |url: &str| remote_name(&Url::parse(url).unwrap());
        assert_eq!(
            name("http://h/a/b.tar.gz?x=1").unwrap(),
            Path::new("b.tar.gz")
        );
        assert_eq!(name("http://h/a%20b").unwrap(), Path::new("a%20b"));
        assert_eq!(name("http://h/a/../c").unwrap(), Path::new("c"));
        for none in ["http://h/", "http://h", "http://u:secret@h/dir/"] {
            let failure = name(none).unwrap_err();
            assert_eq!(failure.code, 23, "{none}");
            assert!(!failure.message.contains("secret"), "{}", failure.message);
        }
    }
}
