//! The command line, as clap parses it.
//!
//! Flags follow curl's names and meanings wherever wayfarer has the feature, so that a curl
//! command line usually works unchanged. Values that can be checked without the network (the
//! method, header syntax and characters, timeouts) are checked here, so that a typo exits with
//! status 2 and clap's usage hint instead of failing later as an "invalid input" of the request.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use wayfarer_core::{Headers, Method};

use crate::write_out::WriteOut;

/// Printed after the options by `--help`: scripts branch on these, so they belong in the usage.
const EXIT_CODES: &str = "\
Exit status (curl's numbers where they apply):
   0  success
   1  unsupported URL scheme, or a failure with no better code
   2  bad command line
   3  malformed URL, or a request that cannot be sent as given
   6  could not resolve host
   7  could not connect
   8  weird server reply (malformed response head)
  18  partial body: the connection ended before the whole body arrived
  22  HTTP status >= 400 with --fail or --fail-with-body
  23  could not write the output (or -O found no file name in the URL)
  26  could not read the --data or --data-binary file
  28  timed out (--max-time, --connect-timeout)
  35  TLS handshake failed
  52  the server closed the connection without replying
  56  failure receiving data (connection reset, ...)
  60  the server's certificate could not be verified
  77  could not load the --cacert file";

/// A curl-like HTTP/1.1 client.
///
/// Sends one request and writes the response body to standard output (or to --output).
/// Redirects are not followed; the response is printed as received. `wayfarer demo` shows what
/// the client does, against a server it starts on this machine.
#[derive(Debug, Parser)]
#[command(
    name = "wayfarer",
    version,
    after_help = EXIT_CODES,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Args {
    /// Instead of a URL: a command.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The URL to request: http:// or https:// (a URL without a scheme gets http://).
    /// Credentials in it (http://user:password@host/) are sent as Basic authentication.
    #[arg(required = true)]
    pub url: Option<String>,

    /// The request method (default GET; POST with --data or --data-binary; HEAD with --head).
    #[arg(short = 'X', long = "request", value_name = "METHOD", value_parser = parse_method)]
    pub method: Option<Method>,

    /// Adds a request header, as 'Name: value'. Repeatable. Replaces the header wayfarer
    /// would add itself (User-Agent, Content-Type of --data, ...).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,

    /// Sends DATA as the body, like an HTML form (Content-Type
    /// application/x-www-form-urlencoded unless -H sets one). Repeatable: the pieces are joined
    /// with '&'. '@FILE' reads the body from FILE ('@-' from standard input) and, as curl does,
    /// drops its carriage returns and newlines; use --data-binary to send a file as it is.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Vec<String>,

    /// Sends DATA as the body exactly as given. '@FILE' streams FILE without loading it into
    /// memory, with Content-Length set to its size ('@-' streams standard input, chunked).
    #[arg(long = "data-binary", value_name = "DATA", conflicts_with = "data")]
    pub data_binary: Option<String>,

    /// Writes the response head (status line and header fields, as received) before the body.
    #[arg(short = 'i', long = "include")]
    pub include: bool,

    /// Sends a HEAD request and writes only the response head.
    #[arg(short = 'I', long = "head", conflicts_with_all = ["data", "data_binary"])]
    pub head: bool,

    /// Writes the output to FILE instead of standard output. A progress bar is shown on a
    /// terminal for bodies over 1 MiB or of unknown length.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Writes the output to a file in the current directory named like the URL's last path
    /// segment (as given, not decoded); fails with status 23 when the URL names no file.
    #[arg(short = 'O', long = "remote-name", conflicts_with = "output")]
    pub remote_name: bool,

    /// Writes the response head (status line and header fields) to FILE; '-' is standard
    /// output, before the body.
    #[arg(short = 'D', long = "dump-header", value_name = "FILE")]
    pub dump_header: Option<PathBuf>,

    /// Prints a timeline of the call on standard error: one line per event with the time since
    /// the call started, and the request and response heads ('>' and '<' lines).
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Silent: no progress bar and no error message (the exit status still tells).
    #[arg(short = 's', long = "silent")]
    pub silent: bool,

    /// With --silent, still prints the error message when the command fails.
    #[arg(short = 'S', long = "show-error")]
    pub show_error: bool,

    /// Gives up on the whole transfer (connecting, sending, receiving the body) after SECONDS;
    /// fractions allowed, 0 means no limit.
    #[arg(short = 'm', long = "max-time", value_name = "SECONDS", value_parser = parse_seconds)]
    pub max_time: Option<Duration>,

    /// Gives up on a TCP connect attempt after SECONDS (default 10; each address of the host
    /// gets this long); fractions allowed.
    #[arg(long = "connect-timeout", value_name = "SECONDS", value_parser = parse_seconds)]
    pub connect_timeout: Option<Duration>,

    /// Trusts the certificates in this PEM file, in addition to the built-in roots: each as a
    /// root, and each as a server's exact certificate (so a self-signed certificate, or a
    /// server's own leaf, can be given directly, as with curl). Host names and validity dates
    /// are still checked.
    #[arg(long = "cacert", value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Fails with exit status 22, writing nothing, when the HTTP status is 400 or more.
    #[arg(short = 'f', long = "fail")]
    pub fail: bool,

    /// Like --fail, but writes the response (body, and head with -i) before failing.
    #[arg(long = "fail-with-body", conflicts_with = "fail")]
    pub fail_with_body: bool,

    /// After the transfer, writes FORMAT to standard output with its variables filled in:
    /// %{http_code} %{time_namelookup} %{time_connect} %{time_appconnect}
    /// %{time_starttransfer} %{time_total} %{size_download} %{speed_download}
    /// %{num_connects} %{url_effective}; \n, \r, \t and \\ are escapes, %% is a '%'.
    #[arg(short = 'w', long = "write-out", value_name = "FORMAT", value_parser = WriteOut::parse)]
    pub write_out: Option<WriteOut>,

    /// Keeps an HTTP cache in DIR (created if needed, up to 50 MiB): a fresh stored response is
    /// served without the network, a stale one is revalidated with the server, and a new one is
    /// stored once it has been received whole. -v shows cache hit, miss or conditional hit. An
    /// unusable DIR is reported and the command goes on without a cache.
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// The User-Agent to send (default wayfarer/VERSION; an empty string sends none).
    #[arg(short = 'A', long = "user-agent", value_name = "NAME", value_parser = parse_user_agent)]
    pub user_agent: Option<String>,
}

/// Commands that take the place of a URL.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Starts a small HTTP server on this machine (127.0.0.1, a free port) and fetches from it,
    /// printing each call's timeline: a quick tour that needs no network.
    Demo,
}

impl Args {
    /// Whether an error message should be printed: curl's `-s` hides it, `-S` brings it back.
    pub fn show_errors(&self) -> bool {
        !self.silent || self.show_error
    }

    /// Whether an HTTP status of 400 or more fails the command.
    pub fn fails_on_http_error(&self) -> bool {
        self.fail || self.fail_with_body
    }
}

/// The one-line message for an option clap does not know, as curl words it; `None` for every
/// other command-line error, which clap reports itself.
pub fn unknown_option(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let option = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(option)) => option.clone(),
        _ => return None,
    };
    Some(format!(
        "wayfarer: option {option}: is unknown (try 'wayfarer --help')"
    ))
}

fn parse_method(s: &str) -> Result<Method, String> {
    Method::from_bytes(s.as_bytes()).map_err(|_| format!("{s:?} is not a valid HTTP method"))
}

/// `Name: value` (the value may be empty). The name and value are checked with the same rules
/// the request builder applies, so a header that could never be sent is a command-line error.
fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not a header: expected 'Name: value'"))?;
    let name = name.trim();
    let value = value.trim_matches([' ', '\t']);
    Headers::new()
        .append(name, value)
        .map_err(|e| e.message().to_string())?;
    Ok((name.to_string(), value.to_string()))
}

fn parse_user_agent(s: &str) -> Result<String, String> {
    Headers::new()
        .append("User-Agent", s)
        .map_err(|e| e.message().to_string())?;
    Ok(s.to_string())
}

/// Seconds as curl takes them: a non-negative decimal number, fractions allowed.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s:?} is not a valid number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn headers_split_at_the_first_colon_and_are_validated() {
        assert_eq!(
            parse_header("X-A:  b: c ").unwrap(),
            ("X-A".to_string(), "b: c".to_string())
        );
        assert_eq!(
            parse_header("X-Empty:").unwrap(),
            ("X-Empty".to_string(), String::new())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("Bad Name: v").is_err());
        assert!(parse_header("X: a\nInjected: 1").is_err());
    }

    #[test]
    fn seconds_accept_fractions_and_refuse_negatives() {
        assert_eq!(parse_seconds("0.25").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_seconds("3").unwrap(), Duration::from_secs(3));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("NaN").is_err());
    }

    #[test]
    fn short_aliases_and_new_options_parse() {
        let args = Args::try_parse_from([
            "wayfarer",
            "-m",
            "2.5",
            "-O",
            "-D",
            "-",
            "--fail-with-body",
            "-w",
            "%{http_code}",
            "http://h/f",
        ])
        .unwrap();
        assert_eq!(args.max_time, Some(Duration::from_millis(2500)));
        assert!(args.remote_name && args.fail_with_body && args.fails_on_http_error());
        assert_eq!(args.dump_header.as_deref(), Some(std::path::Path::new("-")));
        assert!(args.write_out.is_some());
        assert!(Args::try_parse_from(["wayfarer", "-f", "--fail-with-body", "http://h/"]).is_err());
        assert!(Args::try_parse_from(["wayfarer", "-O", "-o", "x", "http://h/"]).is_err());
    }

    #[test]
    fn demo_is_a_command_and_a_url_is_otherwise_required() {
        let args = Args::try_parse_from(["wayfarer", "demo"]).unwrap();
        assert!(matches!(args.command, Some(Command::Demo)));
        assert!(args.url.is_none());
        assert!(Args::try_parse_from(["wayfarer"]).is_err());
        assert!(Args::try_parse_from(["wayfarer", "-v"]).is_err());
    }

    #[test]
    fn unknown_options_get_curls_one_line_message() {
        let e = Args::try_parse_from(["wayfarer", "--frobnicate", "http://h/"]).unwrap_err();
        assert_eq!(
            unknown_option(&e).as_deref(),
            Some("wayfarer: option --frobnicate: is unknown (try 'wayfarer --help')")
        );
        let e = Args::try_parse_from(["wayfarer", "-X"]).unwrap_err();
        assert_eq!(unknown_option(&e), None);
    }

    #[test]
    fn data_flags_conflict_where_curl_would_be_ambiguous() {
        assert!(Args::try_parse_from(["wayfarer", "-I", "-d", "x", "http://h/"]).is_err());
        assert!(
            Args::try_parse_from(["wayfarer", "-d", "x", "--data-binary", "y", "http://h/"])
                .is_err()
        );
        let args = Args::try_parse_from(["wayfarer", "-d", "a", "-d", "b", "http://h/"]).unwrap();
        assert_eq!(args.data, ["a", "b"]);
    }
}
