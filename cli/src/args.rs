//! The command line, as clap parses it.
//!
//! Flags follow curl's names and meanings wherever wayfarer has the feature, so that a curl
//! command line usually works unchanged. Values that can be checked without the network (the
//! method, header syntax and characters, timeouts) are checked here, so that a typo exits with
//! status 2 and clap's usage hint instead of failing later as an "invalid input" of the request.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use wayfarer_core::{Headers, Method};

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
  22  HTTP status >= 400 with --fail
  23  could not write the output
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
/// Redirects are not followed; the response is printed as received.
#[derive(Debug, Parser)]
#[command(name = "wayfarer", version, after_help = EXIT_CODES)]
pub struct Args {
    /// The URL to request: http:// or https:// (a URL without a scheme gets http://).
    pub url: String,

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
    #[arg(long = "max-time", value_name = "SECONDS", value_parser = parse_seconds)]
    pub max_time: Option<Duration>,

    /// Gives up on a TCP connect attempt after SECONDS (default 10; each address of the host
    /// gets this long); fractions allowed.
    #[arg(long = "connect-timeout", value_name = "SECONDS", value_parser = parse_seconds)]
    pub connect_timeout: Option<Duration>,

    /// Trusts the certificates in this PEM file as roots, in addition to the built-in ones.
    #[arg(long = "cacert", value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Fails with exit status 22, writing nothing, when the HTTP status is 400 or more.
    #[arg(short = 'f', long = "fail")]
    pub fail: bool,

    /// The User-Agent to send (default wayfarer/VERSION; an empty string sends none).
    #[arg(short = 'A', long = "user-agent", value_name = "NAME", value_parser = parse_user_agent)]
    pub user_agent: Option<String>,
}

impl Args {
    /// Whether an error message should be printed: curl's `-s` hides it, `-S` brings it back.
    pub fn show_errors(&self) -> bool {
        !self.silent || self.show_error
    }
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
