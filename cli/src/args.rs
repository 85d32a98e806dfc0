//! The command line, as clap parses it.
//!
//! Flags follow curl's names and meanings wherever wayfarer has the feature, so that a curl
//! command line usually works unchanged. Values that can be checked without the network (the
//! method, header syntax and characters, timeouts) are checked here, so that a typo exits with
//! status 2 and clap's usage hint instead of failing later as an "invalid input" of the request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use wayfarer_core::{CertificatePinner, Headers, Method};

use crate::data::DataPiece;
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
  23  could not write the output (or -O found no file name in the URL, or a
      binary body would go to a terminal without -o -)
  26  could not read a --data, --data-binary or --data-urlencode file
  28  timed out (--max-time, --connect-timeout)
  35  TLS handshake failed
  47  more redirects than --max-redirs allows (with -L)
  52  the server closed the connection without replying
  56  failure receiving data (connection reset, ...)
  58  could not use the --cert or --key file
  60  the server's certificate could not be verified
  61  the --compressed body could not be decoded (corrupt gzip)
  77  could not load the --cacert file
  90  the server's certificate chain has none of the --pinnedpubkey keys
  97  the proxy refused the handshake or the tunnel (SOCKS5 or CONNECT)";

/// A curl-like HTTP/1.1 client.
///
/// Sends one request and writes the response body to standard output (or to --output).
/// As with curl, redirects are followed only with -L, and a compressed body is asked for (and
/// decompressed) only with --compressed. `wayfarer demo` shows what the client does,
/// against a server it starts on this machine.
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

    /// More URLs: fetched one after another, or several at once with --parallel. Each body
    /// is written to standard output in the order the URLs were given.
    #[arg(value_name = "URL", conflicts_with_all = ["output", "remote_name", "dump_header", "write_out", "data_binary"])]
    pub more_urls: Vec<String>,

    /// Fetches the URLs in parallel, through the client's dispatcher: at most --parallel-max
    /// at once (to any host).
    #[arg(short = 'Z', long = "parallel")]
    pub parallel: bool,

    /// With several URLs, stops at the first transfer that fails and exits with its status
    /// (by default every URL is fetched, and the command's status is the last one's, or with
    /// --parallel the first failure's, as curl does).
    #[arg(long = "fail-early")]
    pub fail_early: bool,

    /// With --parallel, the most transfers at once (1 to 300, default 50, as curl).
    #[arg(long = "parallel-max", value_name = "NUM", default_value_t = 50,
          value_parser = clap::value_parser!(u16).range(1..=300))]
    pub parallel_max: u16,

    /// The request method (default GET; POST with --data or --data-binary; HEAD with --head).
    #[arg(short = 'X', long = "request", value_name = "METHOD", value_parser = parse_method)]
    pub method: Option<Method>,

    /// Adds a request header, as 'Name: value'. Repeatable. Replaces the header wayfarer
    /// would add itself (User-Agent, Content-Type of --data, ...). As with curl, 'Name:' with
    /// no value removes that header (Host, Connection and the body's framing stay: HTTP/1.1
    /// needs them), and 'Name;' sends it with an empty value.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, Option<String>)>,

    /// Sends DATA as the body, like an HTML form (Content-Type
    /// application/x-www-form-urlencoded unless -H sets one). Repeatable, and with
    /// --data-raw, --data-binary and --data-urlencode: the pieces are joined with '&' in the
    /// order given. '@FILE' reads the piece from FILE ('@-' from standard input) and, as curl
    /// does, drops its carriage returns and newlines; use --data-binary to send a file as it is.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Vec<String>,

    /// Like --data, but '@' has no special meaning: DATA is sent as given.
    #[arg(long = "data-raw", value_name = "DATA")]
    pub data_raw: Vec<String>,

    /// Like --data, but a piece is sent exactly as given (a file keeps its newlines). Alone,
    /// '@FILE' streams FILE without loading it into memory, with Content-Length set to its
    /// size, and reads it again if a 307 or 308 redirect asks for the body again ('@-' streams
    /// standard input, chunked, once).
    #[arg(long = "data-binary", value_name = "DATA")]
    pub data_binary: Vec<String>,

    /// Like --data, but URL-encodes the content ('+' for a space): 'CONTENT', '=CONTENT',
    /// 'NAME=CONTENT' (NAME is sent as given), '@FILE' or 'NAME@FILE' (the file's content,
    /// '-' for standard input; an empty file makes an empty piece, without NAME). The first
    /// '=' or, without one, the first '@' splits NAME from the rest, as curl does.
    #[arg(long = "data-urlencode", value_name = "DATA")]
    pub data_urlencode: Vec<String>,

    /// Every --data, --data-raw, --data-binary and --data-urlencode piece, in command-line
    /// order (filled in by [`Args::try_parse_ordered`]).
    #[arg(skip)]
    pub data_pieces: Vec<DataPiece>,

    /// Writes the response head (status line and header fields, as received) before the body;
    /// with -L, the head of every response in the redirect chain, in turn.
    #[arg(short = 'i', long = "include")]
    pub include: bool,

    /// Sends a HEAD request and writes only the response head.
    #[arg(short = 'I', long = "head")]
    pub head: bool,

    /// Sends the data pieces (-d, --data-raw, --data-binary, --data-urlencode) in the URL's
    /// query instead of a body, after '&' or '?', with GET (HEAD with -I), as curl does. A
    /// space or control character in them exits 3: the URL would be malformed.
    #[arg(short = 'G', long = "get")]
    pub get: bool,

    /// Writes the output to FILE instead of standard output ('-' is standard output, even a
    /// terminal for a binary body, which is otherwise refused there with status 23). A
    /// progress bar is shown on a terminal for bodies over 1 MiB or of unknown length.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Writes the output to a file in the current directory named like the URL's last path
    /// segment (as given, not decoded); fails with status 23 when the URL names no file.
    #[arg(short = 'O', long = "remote-name", conflicts_with = "output")]
    pub remote_name: bool,

    /// Writes the response head (status line and header fields) to FILE; '-' is standard
    /// output, before the body. With -L, the head of every response in the chain, in turn.
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

    /// Requires the server's verified certificate chain to contain one of these public keys,
    /// each 'sha256//BASE64' (the SHA-256 of a SubjectPublicKeyInfo), separated by ';'. Any
    /// certificate of the verified chain may match (OkHttp's rule), not only the server's own;
    /// key files are not supported. A mismatch exits 90.
    #[arg(long = "pinnedpubkey", value_name = "HASHES", value_parser = crate::tls::parse_pins)]
    pub pinned_pubkey: Option<CertificatePinner>,

    /// Presents this client certificate (PEM, own certificate first) when the server asks for
    /// one. Its private key comes from --key, or from this file when --key is not given;
    /// encrypted keys (curl's FILE:PASSWORD) are not supported.
    #[arg(short = 'E', long = "cert", value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// The private key (PEM) of the --cert certificate.
    #[arg(long = "key", value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Does not verify the server's certificate: any certificate is accepted, for any host, so
    /// anyone on the network path can read and change the transfer. Prints a warning every
    /// time. --pinnedpubkey still applies, to the server's own certificate.
    #[arg(short = 'k', long = "insecure")]
    pub insecure: bool,

    /// Uses this proxy: `http://` (the default; plain requests in absolute form, a CONNECT
    /// tunnel for https), `socks5://` (names resolved here) or `socks5h://` (names resolved by
    /// the proxy), with optional `user:password@`; "" for none. Without it, the http_proxy,
    /// https_proxy, all_proxy and no_proxy environment variables are read, as curl does.
    #[arg(short = 'x', long = "proxy", value_name = "URL", value_parser = crate::proxy::parse_proxy)]
    pub proxy: Option<wayfarer_blocking::Proxy>,

    /// Hosts that bypass the proxy: a comma-separated list of names (a name also matches its
    /// subdomains), IP addresses or CIDR ranges, or `*` for all; replaces no_proxy.
    #[arg(long = "noproxy", value_name = "LIST")]
    pub noproxy: Option<String>,

    /// Uses ADDR (one or more, comma-separated) for HOST on PORT instead of asking the
    /// resolver; may be given more than once.
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR", value_parser = crate::proxy::parse_resolve)]
    pub resolve: Vec<String>,

    /// Fails with exit status 22, writing no body (the head with -i), when the HTTP status is
    /// 400 or more.
    #[arg(short = 'f', long = "fail")]
    pub fail: bool,

    /// Like --fail, but writes the response (body, and head with -i) before failing.
    #[arg(long = "fail-with-body", conflicts_with = "fail")]
    pub fail_with_body: bool,

    /// After the transfer, writes FORMAT to standard output with its variables filled in:
    /// %{http_code} (or %{response_code}) %{time_namelookup} %{time_connect} %{time_appconnect}
    /// %{time_starttransfer} %{time_total} %{size_download} %{speed_download}
    /// %{num_connects} %{num_redirects} %{url_effective} (the last URL, after redirects)
    /// %{content_type} %{size_header} (the bytes of the response heads, as -i writes them);
    /// \n, \r, \t and \\ are escapes, %% is a '%'.
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

    /// Follows redirects (a 3xx with a Location field), up to --max-redirs of them. A POST
    /// answered with 301, 302 or 303 is sent again as a GET, as curl does. Credentials (-u, or
    /// the URL's, or an Authorization header) go only to the first request's scheme, host and
    /// port; see --location-trusted.
    #[arg(short = 'L', long = "location")]
    pub location: bool,

    /// Like -L, and sends the credentials to every host the redirects lead to (only for hosts
    /// you trust with them).
    #[arg(long = "location-trusted")]
    pub location_trusted: bool,

    /// With -L, follows at most NUM redirects and exits with status 47 at the next one (-1
    /// for no limit).
    #[arg(
        long = "max-redirs",
        value_name = "NUM",
        default_value_t = 50,
        allow_negative_numbers = true,
        value_parser = parse_max_redirs
    )]
    pub max_redirs: i64,

    /// Sends Basic credentials, 'USER:PASSWORD' (split at the first ':'), with the first
    /// request, without waiting for a 401, as curl does. 'USER' alone sends an empty password
    /// (curl would prompt for one). Replaces credentials in the URL; an Authorization header
    /// given with -H wins.
    #[arg(short = 'u', long = "user", value_name = "USER:PASSWORD", value_parser = parse_user)]
    pub user: Option<(String, String)>,

    /// Asks for a gzip-compressed response (Accept-Encoding: gzip) and decompresses it. Without
    /// it no Accept-Encoding is sent and a body is written exactly as received, as with curl.
    #[arg(long = "compressed")]
    pub compressed: bool,

    /// Sends cookies: from a Netscape cookie FILE (which also turns on the cookie engine, so
    /// cookies set along redirects are sent back), or, when the argument contains '=', the
    /// given 'NAME=VALUE; NAME2=VALUE2' as they are. Repeatable. A missing file is an empty jar.
    #[arg(short = 'b', long = "cookie", value_name = "DATA|FILE", value_parser = crate::cookies::parse_source)]
    pub cookie: Vec<crate::cookies::CookieSource>,

    /// Writes every cookie known at the end (loaded with -b and set by the responses) to FILE in
    /// the Netscape format ('-' for standard output), even when the transfer failed.
    #[arg(short = 'c', long = "cookie-jar", value_name = "FILE")]
    pub cookie_jar: Option<PathBuf>,
}

/// Commands that take the place of a URL.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Starts a small HTTP server on this machine (127.0.0.1, a free port) and fetches from it,
    /// printing each call's timeline: a quick tour that needs no network.
    Demo,
}

impl Args {
    /// Parses the command line, keeping the order of the data pieces across their four
    /// options (clap's derived parser fills each option's list on its own).
    pub fn try_parse_ordered<I, T>(argv: I) -> Result<Args, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Args::command().try_get_matches_from(argv)?;
        let mut args = Args::from_arg_matches(&matches)?;
        type Kind = (&'static str, fn(String) -> DataPiece);
        let kinds: [Kind; 4] = [
            ("data", DataPiece::Ascii),
            ("data_raw", DataPiece::Raw),
            ("data_binary", DataPiece::Binary),
            ("data_urlencode", DataPiece::UrlEncode),
        ];
        let mut pieces = Vec::new();
        for (id, piece) in kinds {
            if let (Some(indices), Some(values)) =
                (matches.indices_of(id), matches.get_many::<String>(id))
            {
                pieces.extend(indices.zip(values.cloned().map(piece)));
            }
        }
        pieces.sort_by_key(|(index, _)| *index);
        args.data_pieces = pieces.into_iter().map(|(_, piece)| piece).collect();
        if args.head && !args.data_pieces.is_empty() && !args.get {
            return Err(Args::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "--head cannot be used with --data, --data-raw, --data-binary or \
                 --data-urlencode, which make a POST; add --get to send the data in the URL",
            ));
        }
        Ok(args)
    }

    /// Whether an error message should be printed: curl's `-s` hides it, `-S` brings it back.
    pub fn show_errors(&self) -> bool {
        !self.silent || self.show_error
    }

    /// The `-o` file; `None` without `-o` and for `-o -`, which is standard output.
    pub fn output_file(&self) -> Option<&Path> {
        self.output
            .as_deref()
            .filter(|path| path.as_os_str() != "-")
    }

    /// Whether `-H` sets the header `name`, or removes it (`-H 'Name:'`): either way, the
    /// command adds no field of that name of its own.
    pub fn sets_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Whether `-H 'Name:'` asks for the header `name` not to be sent.
    pub fn removes_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, value)| value.is_none() && n.eq_ignore_ascii_case(name))
    }

    /// Whether an HTTP status of 400 or more fails the command.
    pub fn fails_on_http_error(&self) -> bool {
        self.fail || self.fail_with_body
    }

    /// Every URL given, in order.
    pub fn urls(&self) -> Vec<&str> {
        self.url
            .iter()
            .chain(&self.more_urls)
            .map(String::as_str)
            .collect()
    }

    /// Whether redirects are followed (`-L`, or `--location-trusted`, which implies it).
    pub fn follows_redirects(&self) -> bool {
        self.location || self.location_trusted
    }

    /// The most redirects to follow, `None` for no limit (`--max-redirs -1`).
    pub fn redirect_limit(&self) -> Option<u32> {
        u32::try_from(self.max_redirs).ok()
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

/// `Name: value`; as curl takes them, `Name:` (no value) is `None`, a header not to send, and
/// `Name;` one with an empty value. The name and value are checked with the same rules the
/// request builder applies, so a header that could never be sent is a command-line error.
fn parse_header(s: &str) -> Result<(String, Option<String>), String> {
    let (name, value) = match (s.split_once(':'), s.trim_end().strip_suffix(';')) {
        (Some((name, value)), _) => (name, value.trim_matches([' ', '\t'])),
        (None, Some(name)) => (name, ""),
        (None, None) => return Err(format!("{s:?} is not a header: expected 'Name: value'")),
    };
    let name = name.trim();
    Headers::new()
        .append(name, value)
        .map_err(|e| e.message().to_string())?;
    let removed = value.is_empty() && s.contains(':');
    Ok((name.to_string(), (!removed).then(|| value.to_string())))
}

fn parse_user_agent(s: &str) -> Result<String, String> {
    Headers::new()
        .append("User-Agent", s)
        .map_err(|e| e.message().to_string())?;
    Ok(s.to_string())
}

/// `--max-redirs`: -1 (no limit) or a count.
fn parse_max_redirs(s: &str) -> Result<i64, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n == -1 || u32::try_from(n).is_ok() => Ok(n),
        _ => Err(format!(
            "{s:?} is not a number of redirects (0 or more, or -1 for no limit)"
        )),
    }
}

/// `-u USER[:PASSWORD]`, split at the first colon as curl does (a user name cannot contain
/// one; a password can). Without a colon the password is empty.
fn parse_user(s: &str) -> Result<(String, String), String> {
    let (user, password) = s.split_once(':').unwrap_or((s, ""));
    Ok((user.to_string(), password.to_string()))
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

    #[test]
    fn the_command_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn headers_split_at_the_first_colon_and_are_validated() {
        assert_eq!(
            parse_header("X-A:  b: c ").unwrap(),
            ("X-A".to_string(), Some("b: c".to_string()))
        );
        assert_eq!(
            parse_header("X-Gone: ").unwrap(),
            ("X-Gone".to_string(), None)
        );
        assert_eq!(
            parse_header("X-Empty;").unwrap(),
            ("X-Empty".to_string(), Some(String::new()))
        );
        assert!(parse_header("X;Y").is_err());
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
    fn redirect_options_parse_as_curl_takes_them() {
        let args = Args::try_parse_from(["wayfarer", "http://h/"]).unwrap();
        assert!(!args.follows_redirects());
        assert_eq!(args.redirect_limit(), Some(50));
        let args =
            Args::try_parse_from(["wayfarer", "-L", "--max-redirs", "-1", "http://h/"]).unwrap();
        assert!(args.follows_redirects());
        assert_eq!(args.redirect_limit(), None);
        let args =
            Args::try_parse_from(["wayfarer", "--location-trusted", "--max-redirs", "0", "h"])
                .unwrap();
        assert!(args.follows_redirects() && args.location_trusted);
        assert_eq!(args.redirect_limit(), Some(0));
        for bad in ["-2", "x", "5000000000"] {
            assert!(
                Args::try_parse_from(["wayfarer", "--max-redirs", bad, "h"]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn user_splits_at_the_first_colon() {
        assert_eq!(
            parse_user("alice:pa:ss").unwrap(),
            ("alice".to_string(), "pa:ss".to_string())
        );
        assert_eq!(
            parse_user("alice").unwrap(),
            ("alice".to_string(), String::new())
        );
        assert_eq!(
            parse_user(":token").unwrap(),
            (String::new(), "token".to_string())
        );
        let args = Args::try_parse_from(["wayfarer", "-u", "a:b", "--compressed", "h"]).unwrap();
        assert_eq!(args.user, Some(("a".to_string(), "b".to_string())));
        assert!(args.compressed);
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
    fn data_pieces_keep_their_command_line_order_and_head_refuses_them() {
        for flag in ["-d", "--data-raw", "--data-binary", "--data-urlencode"] {
            let e =
                Args::try_parse_ordered(["wayfarer", "-I", flag, "x", "http://h/"]).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{flag}");
            assert!(e.to_string().contains("--get"), "{e}");
            let args = Args::try_parse_ordered(["wayfarer", "-I", "-G", flag, "x", "http://h/"]);
            assert!(args.is_ok_and(|a| a.get && a.head), "{flag}");
        }
        let args = Args::try_parse_ordered([
            "wayfarer",
            "--data-urlencode",
            "u",
            "-d",
            "a",
            "--data-binary",
            "b",
            "--data-raw",
            "r",
            "-d",
            "c",
            "http://h/",
        ])
        .unwrap();
        assert_eq!(
            args.data_pieces,
            [
                DataPiece::UrlEncode("u".into()),
                DataPiece::Ascii("a".into()),
                DataPiece::Binary("b".into()),
                DataPiece::Raw("r".into()),
                DataPiece::Ascii("c".into()),
            ]
        );
    }
}
