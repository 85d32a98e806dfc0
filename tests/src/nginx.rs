//! A real nginx, started per test, for interop tests against a server wayfarer did not write.
//!
//! The scripted origin tests what wayfarer does with bytes chosen by the test; this harness tests
//! that it works with a widely deployed server's actual behaviour: keep-alive, sendfile-sized
//! bodies, and TLS from OpenSSL. Each [`Nginx`] is a private instance: its own temporary prefix
//! (configuration, logs, pid and temp directories, document root) and its own loopback port, so
//! tests run in parallel and as any user, root or not.
//!
//! The configuration is `tests/nginx/nginx.conf`, a template embedded at build time.
//!
//! A missing or broken nginx is an error, never a skip: [`Nginx::start`] returns `Err` with what
//! went wrong, and tests are expected to `expect()` it so CI fails loudly.

use std::env;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The configuration template; see the file for its placeholders.
const TEMPLATE: &str = include_str!("../nginx/nginx.conf");

/// Where nginx is looked for after `PATH`: Debian and most distributions install it in sbin,
/// which is not on an unprivileged user's `PATH`.
const FALLBACK_BINARIES: &[&str] = &["/usr/sbin/nginx", "/usr/local/sbin/nginx"];

/// How long nginx gets to start accepting connections. It normally takes a few milliseconds; the
/// margin is for loaded CI machines.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How many ports to try when another process takes the chosen port before nginx binds it.
const PORT_ATTEMPTS: usize = 5;

/// The name of the small file in the document root.
pub const SMALL: &str = "small.txt";

/// The exact contents of [`SMALL`]: short, recognisable text, for tests that need a body they can
/// compare at a glance.
pub const SMALL_TXT: &[u8] = b"wayfarer nginx interop: small.txt\n\
This file is served by a real nginx started by the test harness. Its length is fixed and\n\
known, so a client can check the Content-Length it was sent and the bytes it read, and do\n\
so twice on one kept-alive connection without any chunked framing getting in the way.\n\
0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n";

/// The name of the large file in the document root.
pub const BIG: &str = "big.bin";

/// The exact length of [`BIG`], 64 MiB: large enough that a body cannot fit in any buffer, so
/// streaming, flow control and sendfile are exercised.
pub const BIG_BIN_LEN: u64 = 64 * 1024 * 1024;

/// What kind of server to start.
#[derive(Debug, Clone, Default)]
pub struct NginxOptions {
    /// Serve HTTPS with this `(certificate chain PEM, private key PEM)`, for example from
    /// [`crate::certs::TestPki::leaf_pem`]; plain HTTP when `None`.
    pub tls: Option<(String, String)>,
}

/// A running nginx serving [`SMALL`] and [`BIG`] on a loopback port; stopped when dropped.
#[derive(Debug)]
pub struct Nginx {
    child: Child,
    port: u16,
    tls: bool,
    root: PathBuf,
    // Dropped after `Drop::drop` has stopped nginx, removing the prefix and all in it.
    prefix: TempDir,
}

impl Nginx {
    /// Starts a private nginx and waits until it accepts connections.
    ///
    /// Returns `Err` with a readable explanation, including nginx's own output, if nginx is not
    /// installed, fails to start, or does not accept connections within 10 seconds.
    pub fn start(options: NginxOptions) -> Result<Nginx, String> {
        Nginx::start_on_ports(options, free_port)
    }

    /// [`Nginx::start`], taking each port to try from `next_port`, so tests can hand it a port
    /// that is already taken.
    fn start_on_ports(
        options: NginxOptions,
        mut next_port: impl FnMut() -> Result<u16, String>,
    ) -> Result<Nginx, String> {
        let binary = find_nginx(env::var_os("PATH"), FALLBACK_BINARIES)?;
        let built_without = modules_built_without(&binary)?;

        let prefix = tempfile::Builder::new()
            .prefix("wayfarer-nginx-")
            .tempdir()
            .map_err(|error| format!("cannot create a temporary directory for nginx: {error}"))?;
        let prefix_path = prefix.path().to_path_buf();
        let prefix_str = config_path(&prefix_path)?;
        let root = prefix_path.join("root");
        let error_log = prefix_path.join("error.log");
        let stderr_log = prefix_path.join("stderr.log");
        let config_file = prefix_path.join("nginx.conf");

        for dir in ["temp", "root", "tls"] {
            fs::create_dir(prefix_path.join(dir))
                .map_err(|error| format!("cannot create {dir} in {prefix_str}: {error}"))?;
        }
        write_document_root(&root)
            .map_err(|error| format!("cannot write nginx's document root: {error}"))?;
        if let Some((cert_pem, key_pem)) = &options.tls {
            fs::write(prefix_path.join("tls/cert.pem"), cert_pem)
                .and_then(|()| fs::write(prefix_path.join("tls/key.pem"), key_pem))
                .map_err(|error| format!("cannot write nginx's certificate and key: {error}"))?;
        }

        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = next_port()?;
            let config = render_config(&prefix_str, port, options.tls.is_some(), &built_without);
            fs::write(&config_file, config)
                .map_err(|error| format!("cannot write {}: {error}", config_file.display()))?;
            let launch = Launch {
                binary: &binary,
                prefix: &prefix_path,
                config: &config_file,
                error_log: &error_log,
                stderr_log: &stderr_log,
                port,
            };
            match launch.run() {
                Ok(child) => {
                    return Ok(Nginx {
                        child,
                        port,
                        tls: options.tls.is_some(),
                        root,
                        prefix,
                    });
                }
                Err(LaunchError::PortTaken(message)) => last_error = message,
                Err(LaunchError::Failed(message)) => return Err(message),
            }
        }
        Err(format!(
            "nginx could not bind a free port in {PORT_ATTEMPTS} attempts; last error:\n{last_error}"
        ))
    }

    /// The loopback port nginx listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address nginx listens on, for clients that connect by address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Whether this instance serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The URL of `path` on this server.
    ///
    /// Plain HTTP uses `http://127.0.0.1:PORT/`, which needs no name resolution. HTTPS uses
    /// `https://localhost:PORT/` so that the client verifies the certificate against a DNS name,
    /// the usual case. Note that `localhost` may resolve to `::1` first while nginx listens on
    /// 127.0.0.1 only: a client must fall back to the next address.
    pub fn url(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        if self.tls {
            format!("https://localhost:{}/{path}", self.port)
        } else {
            format!("http://127.0.0.1:{}/{path}", self.port)
        }
    }

    /// The document root, so tests can compare a fetched body with the served file, by streaming
    /// both rather than holding 64 MiB twice.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// nginx's error log so far, for assertion messages when a test against nginx fails.
    pub fn error_log(&self) -> String {
        let path = self.prefix.path().join("error.log");
        fs::read_to_string(&path)
            .unwrap_or_else(|error| format!("(cannot read {}: {error})", path.display()))
    }
}

impl Drop for Nginx {
    /// Kills nginx and reaps it, then removes the prefix.
    ///
    /// SIGKILL (what `Child::kill` sends) cannot be caught or delayed, so this never hangs; with
    /// `master_process off` there are no worker processes that could outlive it.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything one attempt at starting nginx needs.
struct Launch<'a> {
    binary: &'a Path,
    prefix: &'a Path,
    config: &'a Path,
    error_log: &'a Path,
    stderr_log: &'a Path,
    port: u16,
}

enum LaunchError {
    /// Someone else bound the port between our probe and nginx's bind: try another.
    PortTaken(String),
    /// Anything else: report it.
    Failed(String),
}

impl Launch<'_> {
    fn run(&self) -> Result<Child, LaunchError> {
        let failed = |message: String| LaunchError::Failed(message);
        // Fresh logs for each attempt, so a failure report shows only this attempt.
        let stderr = File::create(self.stderr_log)
            .map_err(|error| failed(format!("cannot create nginx's stderr log: {error}")))?;
        let stdout = stderr
            .try_clone()
            .map_err(|error| failed(format!("cannot duplicate nginx's stderr log: {error}")))?;
        File::create(self.error_log)
            .map_err(|error| failed(format!("cannot create nginx's error log: {error}")))?;

        let pid_file = self.prefix.join("nginx.pid");
        // A pid file left by a killed earlier attempt must not count as this one's.
        fs::remove_file(&pid_file)
            .or_else(|error| match error.kind() {
                io::ErrorKind::NotFound => Ok(()),
                _ => Err(error),
            })
            .map_err(|error| failed(format!("cannot remove a stale nginx pid file: {error}")))?;

        // -p: relative paths resolve inside the prefix. -e (nginx 1.19.5+): the error log used
        // before the configuration is read, whose compiled-in default may not be writable.
        let mut prefix_arg = OsString::from(self.prefix.as_os_str());
        prefix_arg.push("/");
        let mut child = Command::new(self.binary)
            .arg("-p")
            .arg(prefix_arg)
            .arg("-c")
            .arg(self.config)
            .arg("-e")
            .arg(self.error_log)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|error| failed(format!("cannot run {}: {error}", self.binary.display())))?;

        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Err(self.exited(status)),
                Ok(None) => {}
                Err(error) => {
                    stop(&mut child);
                    return Err(failed(format!("cannot check on nginx: {error}")));
                }
            }
            // nginx writes its pid file only after binding its listening socket, so a matching
            // pid file means a successful connection reached this nginx and not some other
            // process that took the port.
            let started =
                fs::read_to_string(&pid_file).is_ok_and(|pid| pid.trim() == child.id().to_string());
            if started && TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
                return Ok(child);
            }
            // When the port is taken, nginx retries bind() for 2.5 s before giving up; there is
            // no point waiting for that.
            if !started && fs::read_to_string(self.error_log).is_ok_and(|log| port_taken(&log)) {
                stop(&mut child);
                return Err(LaunchError::PortTaken(format!(
                    "nginx could not bind port {}\n{}",
                    self.port,
                    self.diagnostics()
                )));
            }
            if Instant::now() >= deadline {
                stop(&mut child);
                return Err(failed(format!(
                    "nginx did not accept connections on {addr} within {} s\n{}",
                    START_TIMEOUT.as_secs(),
                    self.diagnostics()
                )));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn exited(&self, status: ExitStatus) -> LaunchError {
        let diagnostics = self.diagnostics();
        let message = format!(
            "nginx ({}) exited with {status} before accepting connections on port {}\n{diagnostics}",
            self.binary.display(),
            self.port
        );
        if port_taken(&diagnostics) {
            LaunchError::PortTaken(message)
        } else {
            LaunchError::Failed(message)
        }
    }

    /// nginx's stderr and error log, where it explains why it failed.
    fn diagnostics(&self) -> String {
        let read = |path: &Path| {
            fs::read_to_string(path)
                .map(|text| tail(text.trim(), 4000).to_string())
                .unwrap_or_else(|error| format!("(cannot read: {error})"))
        };
        format!(
            "--- nginx stderr ---\n{}\n--- nginx error log ---\n{}",
            read(self.stderr_log),
            read(self.error_log)
        )
    }
}

/// Whether nginx's log says its listening port is taken (EADDRINUSE).
fn port_taken(log: &str) -> bool {
    log.contains("Address already in use")
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `max` bytes of `text` (at a character boundary): the end of a log is what explains a
/// failure.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Finds the nginx binary: the first `nginx` on `path`, else the first existing fallback.
fn find_nginx(path: Option<OsString>, fallbacks: &[&str]) -> Result<PathBuf, String> {
    let on_path = path
        .iter()
        .flat_map(env::split_paths)
        .map(|dir| dir.join("nginx"));
    let fallbacks = fallbacks.iter().map(PathBuf::from);
    on_path
        .chain(fallbacks.clone())
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            let fallbacks: Vec<String> = fallbacks.map(|p| p.display().to_string()).collect();
            format!(
                "nginx not found on PATH nor at {}; the nginx interop tests need it \
                 (on Debian or Ubuntu: apt-get install nginx)",
                fallbacks.join(", ")
            )
        })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The temp-path directives of modules this nginx was built without: configuring them would be
/// an unknown directive. They are read from `nginx -V`'s configure arguments.
fn modules_built_without(binary: &Path) -> Result<Vec<&'static str>, String> {
    let output = Command::new(binary)
        .arg("-V")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {} -V: {error}", binary.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(format!(
            "{} -V failed with {}:\n{text}",
            binary.display(),
            output.status
        ));
    }
    Ok(directives_built_without(&text))
}

fn directives_built_without(version_output: &str) -> Vec<&'static str> {
    [
        ("--without-http_proxy_module", "proxy_temp_path"),
        ("--without-http_fastcgi_module", "fastcgi_temp_path"),
        ("--without-http_uwsgi_module", "uwsgi_temp_path"),
        ("--without-http_scgi_module", "scgi_temp_path"),
    ]
    .into_iter()
    .filter(|(flag, _)| version_output.split_whitespace().any(|word| word == *flag))
    .map(|(_, directive)| directive)
    .collect()
}

/// Fills in the template, leaving out its comments (which name the placeholders) and the
/// directives in `omit`.
fn render_config(prefix: &str, port: u16, tls: bool, omit: &[&str]) -> String {
    let root = format!("{prefix}/root");
    TEMPLATE
        .lines()
        .filter(|line| {
            let directive = line.split_whitespace().next().unwrap_or("");
            !directive.starts_with('#') && !omit.contains(&directive)
        })
        .map(|line| {
            let line = line
                .replace("@PREFIX@", prefix)
                .replace("@ROOT@", &root)
                .replace("@PORT@", &port.to_string())
                .replace("@SSL@", if tls { "ssl" } else { "" })
                .replace("@IF_TLS@", if tls { "" } else { "# " });
            line + "\n"
        })
        .collect()
}

/// A path as it can appear in the configuration: inside double quotes, where nginx would still
/// interpret `$` (variables) and `\`, and `"` would end the string.
fn config_path(path: &Path) -> Result<String, String> {
    let text = path.to_str().ok_or_else(|| {
        format!(
            "nginx cannot be given the non-UTF-8 path {}",
            path.display()
        )
    })?;
    if text.contains(['"', '\\', '$']) || !path.is_absolute() {
        return Err(format!(
            "nginx cannot be given the path {text}; set TMPDIR to a plain absolute directory"
        ));
    }
    Ok(text.to_string())
}

/// A loopback port that was free a moment ago.
///
/// There is a window between dropping the probe socket and nginx binding the port; `start`
/// covers it by retrying with another port when nginx reports the address in use.
fn free_port() -> Result<u16, String> {
    let mut last_error = None;
    for _ in 0..PORT_ATTEMPTS {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|probe| probe.local_addr()) {
            Ok(addr) => return Ok(addr.port()),
            Err(error) => last_error = Some(error),
        }
    }
    Err(format!(
        "cannot find a free loopback port: {}",
        last_error.map_or_else(String::new, |error| error.to_string())
    ))
}

fn write_document_root(root: &Path) -> io::Result<()> {
    fs::write(root.join(SMALL), SMALL_TXT)?;
    let mut big = BufWriter::with_capacity(1 << 20, File::create(root.join(BIG))?);
    write_big_bin(&mut big)?;
    big.flush()
}

/// Writes the [`BIG_BIN_LEN`] deterministic pseudo-random bytes of [`BIG`].
///
/// Pseudo-random so that no compression, deduplication or repeated pattern can make a broken
/// client look right; deterministic so that failures reproduce. xorshift64* is fast enough that
/// 64 MiB costs well under a second even unoptimised.
fn write_big_bin(out: &mut impl Write) -> io::Result<()> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 16];
    for _ in 0..BIG_BIN_LEN / block.len() as u64 {
        for word in block.chunks_exact_mut(8) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            word.copy_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        out.write_all(&block)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_taken_before_nginx_binds_it_is_retried() {
        let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken = squatter.local_addr().unwrap().port();
        let mut ports = vec![taken, taken];
        let nginx = Nginx::start_on_ports(NginxOptions::default(), || match ports.pop() {
            Some(port) => Ok(port),
            None => free_port(),
        })
        .unwrap_or_else(|error| panic!("nginx failed to start: {error}"));
        assert!(ports.is_empty(), "both taken attempts were made");
        assert_ne!(nginx.port(), taken);
        assert!(TcpStream::connect(nginx.addr()).is_ok());
    }

    #[test]
    fn a_port_that_stays_taken_is_an_error() {
        let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken = squatter.local_addr().unwrap().port();
        let mut attempts = 0;
        let error = Nginx::start_on_ports(NginxOptions::default(), || {
            attempts += 1;
            Ok(taken)
        })
        .expect_err("nginx cannot bind a port that is taken");
        assert_eq!(attempts, PORT_ATTEMPTS);
        assert!(error.contains("Address already in use"), "{error}");
    }

    #[test]
    fn config_has_no_placeholders_left() {
        for tls in [false, true] {
            let config = render_config("/tmp/prefix", 8443, tls, &[]);
            assert!(!config.contains('@'), "tls={tls}:\n{config}");
            assert!(config.contains("listen 127.0.0.1:8443"), "{config}");
            assert!(config.contains("root \"/tmp/prefix/root\";"), "{config}");
            assert!(
                config.contains("pid \"/tmp/prefix/nginx.pid\";"),
                "{config}"
            );
        }
    }

    #[test]
    fn tls_directives_only_when_serving_tls() {
        let plain = render_config("/p", 1, false, &[]);
        let tls = render_config("/p", 1, true, &[]);
        let active = |config: &str, needle: &str| {
            config
                .lines()
                .any(|line| line.trim_start().starts_with(needle))
        };
        assert!(!active(&plain, "ssl_certificate "), "{plain}");
        assert!(
            active(&tls, "ssl_certificate \"/p/tls/cert.pem\";"),
            "{tls}"
        );
        assert!(
            active(&tls, "ssl_certificate_key \"/p/tls/key.pem\";"),
            "{tls}"
        );
        assert!(active(&tls, "listen 127.0.0.1:1 ssl;"), "{tls}");
        assert!(active(&plain, "listen 127.0.0.1:1 ;"), "{plain}");
    }

    #[test]
    fn temp_paths_of_missing_modules_are_dropped() {
        let version = "configure arguments: --prefix=/x --without-http_uwsgi_module \
                       --without-http_scgi_module --with-http_ssl_module";
        let omit = directives_built_without(version);
        assert_eq!(omit, ["uwsgi_temp_path", "scgi_temp_path"]);
        let config = render_config("/p", 1, false, &omit);
        assert!(!config.contains("uwsgi_temp_path"), "{config}");
        assert!(!config.contains("scgi_temp_path"), "{config}");
        assert!(
            config.contains("proxy_temp_path \"/p/temp/proxy\";"),
            "{config}"
        );
        assert!(config.contains("client_body_temp_path"), "{config}");
    }

    #[test]
    fn missing_nginx_is_a_clear_error() {
        let empty = tempfile::tempdir().unwrap();
        let error = find_nginx(
            Some(empty.path().as_os_str().to_owned()),
            &["/nonexistent/sbin/nginx"],
        )
        .unwrap_err();
        assert!(error.contains("nginx not found"), "{error}");
        assert!(error.contains("/nonexistent/sbin/nginx"), "{error}");
    }

    #[test]
    fn nginx_is_found_on_path_first() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("nginx");
        fs::write(&fake, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let found = find_nginx(Some(dir.path().as_os_str().to_owned()), &["/bin/sh"]);
        assert_eq!(found, Ok(fake));
    }

    #[test]
    fn unusable_paths_are_refused() {
        assert!(config_path(Path::new("/tmp/a$b")).is_err());
        assert!(config_path(Path::new("/tmp/a\"b")).is_err());
        assert!(config_path(Path::new("relative")).is_err());
        assert_eq!(config_path(Path::new("/tmp/ok")), Ok("/tmp/ok".to_string()));
    }

    #[test]
    fn big_bin_is_deterministic_and_exactly_64_mib() {
        let (mut first, mut second) = (Vec::new(), Vec::new());
        write_big_bin(&mut first).unwrap();
        write_big_bin(&mut second).unwrap();
        assert_eq!(first.len() as u64, BIG_BIN_LEN);
        assert!(first == second, "big.bin differs between generations");
        // Not trivially patterned: the first two words differ and bytes are spread out.
        assert_ne!(first[..8], first[8..16]);
        let zeros = first[..1 << 20].iter().filter(|&&byte| byte == 0).count();
        assert!(zeros < 8192, "{zeros} zero bytes in the first MiB");
    }

    #[test]
    fn small_txt_is_a_few_hundred_bytes() {
        assert!(
            (200..1000).contains(&SMALL_TXT.len()),
            "{}",
            SMALL_TXT.len()
        );
    }

    #[test]
    fn tail_respects_character_boundaries() {
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 3), "ab");
        assert_eq!(tail("aé", 1), "");
    }
}
