//! Real proxies for interop tests, started as the current user on free loopback ports the way
//! [`crate::nginx`] starts nginx: tinyproxy (HTTP forwarding and `CONNECT` tunnels, optionally
//! with Basic authentication) and dante's `danted` (SOCKS5). A proxy that cannot start is an
//! error, never a skip: `.ci/run` installs both (`apt-get install tinyproxy dante-server`).

use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a proxy may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Which proxy server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// tinyproxy: an HTTP proxy.
    Tinyproxy,
    /// dante: a SOCKS5 proxy.
    Dante,
}

/// A running proxy; stopped when dropped.
#[derive(Debug)]
pub struct ProxyServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    kind: Kind,
}

impl ProxyServer {
    /// Starts tinyproxy; with `basic_auth`, it asks for these credentials (`407`).
    pub fn tinyproxy(basic_auth: Option<(&str, &str)>) -> Result<ProxyServer, String> {
        let binary = find(&["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"], "tinyproxy")?;
        on_a_free_port(|| Self::start_tinyproxy(&binary, basic_auth))
    }

    fn start_tinyproxy(
        binary: &Path,
        basic_auth: Option<(&str, &str)>,
    ) -> Result<ProxyServer, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port()?;
        let mut conf = String::new();
        let log = dir.path().join("proxy.log");
        let _ = writeln!(conf, "Port {port}\nListen 127.0.0.1\nTimeout 60");
        let _ = writeln!(conf, "LogFile \"{}\"\nLogLevel Info", log.display());
        let _ = writeln!(conf, "MaxClients 50\nAllow 127.0.0.1\nDisableViaHeader Yes");
        if let Some((user, password)) = basic_auth {
            let _ = writeln!(conf, "BasicAuth {user} {password}");
        }
        let conf_path = dir.path().join("tinyproxy.conf");
        fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let child = spawn(
            Command::new(binary).arg("-d").arg("-c").arg(&conf_path),
            dir.path(),
        )?;
        ProxyServer {
            child,
            port,
            dir,
            kind: Kind::Tinyproxy,
        }
        .ready()
    }

    /// Starts danted: SOCKS5 without authentication, connecting out from 127.0.0.1.
    pub fn dante() -> Result<ProxyServer, String> {
        let binary = find(&["/usr/sbin/danted", "/usr/bin/danted"], "danted")?;
        on_a_free_port(|| Self::start_dante(&binary))
    }

    fn start_dante(binary: &Path) -> Result<ProxyServer, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port()?;
        let log = dir.path().join("proxy.log");
        let conf = format!(
            "logoutput: {log}\n\
             internal: 127.0.0.1 port = {port}\n\
             external: 127.0.0.1\n\
             clientmethod: none\n\
             socksmethod: none\n\
             client pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}}\n\
             socks pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  command: connect\n}}\n",
            log = log.display()
        );
        let conf_path = dir.path().join("danted.conf");
        fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let pid = dir.path().join("danted.pid");
        let child = spawn(
            Command::new(binary)
                .arg("-f")
                .arg(&conf_path)
                .arg("-p")
                .arg(&pid)
                .arg("-N")
                .arg("1"),
            dir.path(),
        )?;
        ProxyServer {
            child,
            port,
            dir,
            kind: Kind::Dante,
        }
        .ready()
    }

    /// Waits until the proxy accepts connections.
    fn ready(mut self) -> Result<ProxyServer, String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)).is_ok() {
                // A port is free only when it is picked: another test's listener may have
                // taken it since, and then the connect reached that one while the proxy,
                // unable to listen, exits. It does so at once; give it the time to.
                thread::sleep(Duration::from_millis(100));
                if let Ok(Some(status)) = self.child.try_wait() {
                    return Err(format!(
                        "{:?} exited with {status} after its port answered: {PORT_TAKEN}\n{}",
                        self.kind,
                        self.diagnostics()
                    ));
                }
                return Ok(self);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{:?} exited with {status} before accepting connections\n{}",
                    self.kind,
                    self.diagnostics()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{:?} did not accept connections on {} within {} s\n{}",
                    self.kind,
                    self.addr(),
                    START_TIMEOUT.as_secs(),
                    self.diagnostics()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// What the proxy logged, and wrote on stderr: where it explains a failure, and where it
    /// records what it was asked.
    pub fn diagnostics(&self) -> String {
        let read = |path: PathBuf| fs::read_to_string(path).unwrap_or_default();
        format!(
            "--- {:?} stderr ---\n{}\n--- log ---\n{}",
            self.kind,
            read(self.dir.path().join("stderr.log")),
            read(self.dir.path().join("proxy.log"))
        )
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(command: &mut Command, dir: &Path) -> Result<Child, String> {
    let stderr = fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
    let stdout = stderr.try_clone().map_err(|e| e.to_string())?;
    command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .current_dir(dir)
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))
}

fn find(candidates: &[&str], name: &str) -> Result<PathBuf, String> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "{name} not found at {}; the proxy interop tests need it \
                 (on Debian or Ubuntu: apt-get install tinyproxy dante-server)",
                candidates.join(", ")
            )
        })
}

/// Part of the error of a proxy that could not listen on the port picked for it.
const PORT_TAKEN: &str = "its port was taken";

/// Starts a proxy with `start` (which picks a free port each time), again on another port when
/// the one picked was taken before the proxy could listen on it; any other failure is final.
fn on_a_free_port(
    mut start: impl FnMut() -> Result<ProxyServer, String>,
) -> Result<ProxyServer, String> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match start() {
            Err(e) if attempts < 5 && (e.contains(PORT_TAKEN) || e.contains("exited with")) => {}
            result => return result,
        }
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|probe| probe.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}
