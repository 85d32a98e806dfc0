//! The SOCKS5 handshake (RFC 1928, with RFC 1929 user name and password), as a sans-IO state
//! machine: bytes from the proxy go in, bytes for the proxy come out.
//!
//! Hand-rolled rather than taken from a crate: the SOCKS5 crates on crates.io
//! (`tokio-socks`, `async-socks5`, `socks`) each own the socket and run on one runtime or on
//! blocking I/O, and the core must not. The protocol is three small fixed-format messages, so
//! the machine below is short.
//!
//! ```text
//!  greeting [5, n, methods] ──▶ choice [5, m] ──m = 2──▶ [1, user, pass] ──▶ [1, 0] ─┐
//!                                              └─m = 0──────────────────────────────┤
//!  CONNECT [5, 1, 0, atyp, addr, port] ◀──────────────────────────────────────────────┘
//!  reply [5, 0, 0, atyp, bound addr, port] ──▶ done: the socket now reaches the origin
//! ```

use core::net::IpAddr;

use super::Credentials;
use crate::Error;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASS: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;

/// Where the proxy is asked to connect.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// An address we resolved (`socks5://`, or an IP literal).
    Ip(IpAddr),
    /// A name the proxy resolves (`socks5h://`, remote DNS).
    Name(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Choice,
    Auth,
    Reply,
    Done,
}

/// What the handshake wants next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send these bytes, then read the proxy's answer.
    Send(Vec<u8>),
    /// Read more bytes from the proxy.
    Read,
    /// The tunnel stands: everything after this goes to the origin.
    Done,
}

/// One SOCKS5 `CONNECT` handshake.
#[derive(Debug)]
pub(crate) struct Socks5 {
    state: State,
    target: Target,
    port: u16,
    credentials: Option<Credentials>,
}

impl Socks5 {
    /// A handshake to reach `target:port`, with `credentials` offered if the proxy wants them;
    /// returns the greeting to send first.
    pub(crate) fn new(
        target: Target,
        port: u16,
        credentials: Option<Credentials>,
    ) -> Result<(Socks5, Vec<u8>), Error> {
        if let Target::Name(name) = &target {
            if name.is_empty() || name.len() > 255 {
                return Err(Error::invalid_input(
                    "a SOCKS5 host name must be 1 to 255 bytes long",
                ));
            }
        }
        if let Some(c) = &credentials {
            if c.username().len() > 255 || c.password().len() > 255 {
                return Err(Error::invalid_input(
                    "SOCKS5 user names and passwords are at most 255 bytes long",
                ));
            }
        }
        let greeting = match credentials {
            Some(_) => vec![VERSION, 2, NO_AUTH, USER_PASS],
            None => vec![VERSION, 1, NO_AUTH],
        };
        let socks = Socks5 {
            state: State::Choice,
            target,
            port,
            credentials,
        };
        Ok((socks, greeting))
    }

    /// Reads the proxy's bytes in `data`: how many were used, and what to do next. Bytes after
    /// the final reply belong to the origin and are left unconsumed.
    pub(crate) fn on_data(&mut self, data: &[u8]) -> Result<(usize, Step), Error> {
        match self.state {
            State::Choice => {
                let Some(&[version, method]) = data.get(..2) else {
                    return Ok((0, Step::Read));
                };
                if version != VERSION {
                    return Err(refused(format!("the proxy answered version {version}")));
                }
                match method {
                    NO_AUTH => {
                        self.state = State::Reply;
                        Ok((2, Step::Send(self.connect_request())))
                    }
                    USER_PASS => {
                        let Some(c) = &self.credentials else {
                            return Err(refused("the proxy wants credentials".into()));
                        };
                        let mut auth = vec![1, c.username().len() as u8];
                        auth.extend_from_slice(c.username().as_bytes());
                        auth.push(c.password().len() as u8);
                        auth.extend_from_slice(c.password().as_bytes());
                        self.state = State::Auth;
                        Ok((2, Step::Send(auth)))
                    }
                    NO_ACCEPTABLE => Err(refused(
                        "the proxy accepts none of the offered authentication methods".into(),
                    )),
                    other => Err(refused(format!(
                        "the proxy chose authentication method {other}, which was not offered"
                    ))),
                }
            }
            State::Auth => {
                let Some(&[_, status]) = data.get(..2) else {
                    return Ok((0, Step::Read));
                };
                if status != 0 {
                    return Err(refused(
                        "the proxy refused the user name and password".into(),
                    ));
                }
                self.state = State::Reply;
                Ok((2, Step::Send(self.connect_request())))
            }
            State::Reply => {
                let Some(&[version, reply, _, atyp]) = data.get(..4) else {
                    return Ok((0, Step::Read));
                };
                if version != VERSION {
                    return Err(refused(format!("the proxy answered version {version}")));
                }
                if reply != 0 {
                    return Err(refused(reply_message(reply).into()));
                }
                let addr_len = match atyp {
                    1 => 4,
                    4 => 16,
                    3 => match data.get(4) {
                        Some(&n) => 1 + usize::from(n),
                        None => return Ok((0, Step::Read)),
                    },
                    other => {
                        return Err(refused(format!(
                            "unknown address type {other} in the reply"
                        )));
                    }
                };
                let total = 4 + addr_len + 2;
                if data.len() < total {
                    return Ok((0, Step::Read));
                }
                self.state = State::Done;
                Ok((total, Step::Done))
            }
            State::Done => Ok((0, Step::Done)),
        }
    }

    fn connect_request(&self) -> Vec<u8> {
        let mut out = vec![VERSION, 1, 0];
        match &self.target {
            Target::Ip(IpAddr::V4(ip)) => {
                out.push(1);
                out.extend_from_slice(&ip.octets());
            }
            Target::Ip(IpAddr::V6(ip)) => {
                out.push(4);
                out.extend_from_slice(&ip.octets());
            }
            Target::Name(name) => {
                out.push(3);
                out.push(name.len() as u8);
                out.extend_from_slice(name.as_bytes());
            }
        }
        out.extend_from_slice(&self.port.to_be_bytes());
        out
    }
}

fn refused(why: String) -> Error {
    Error::proxy(format!("SOCKS5 handshake failed: {why}"))
}

/// RFC 1928 section 6's reply codes.
fn reply_message(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown failure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn remote_dns_without_credentials() {
        let (mut s, greeting) = Socks5::new(Target::Name("example.com".into()), 443, None).unwrap();
        assert_eq!(greeting, [5, 1, 0]);
        assert_eq!(s.on_data(&[5]).unwrap(), (0, Step::Read));
        let (n, step) = s.on_data(&[5, 0]).unwrap();
        let mut want = vec![5, 1, 0, 3, 11];
        want.extend_from_slice(b"example.com");
        want.extend_from_slice(&[1, 187]);
        assert_eq!((n, step), (2, Step::Send(want)));
        // The reply with a bound IPv4 address, followed by the origin's first bytes.
        let reply = [5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90, b'H'];
        assert_eq!(s.on_data(&reply[..9]).unwrap(), (0, Step::Read));
        assert_eq!(s.on_data(&reply).unwrap(), (10, Step::Done));
    }

    #[test]
    fn user_and_password_then_an_ipv6_target() {
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let creds = Credentials::new("u", "pw");
        let (mut s, greeting) = Socks5::new(Target::Ip(ip), 80, Some(creds)).unwrap();
        assert_eq!(greeting, [5, 2, 0, 2]);
        assert_eq!(
            s.on_data(&[5, 2]).unwrap(),
            (2, Step::Send(vec![1, 1, b'u', 2, b'p', b'w']))
        );
        let (_, Step::Send(req)) = s.on_data(&[1, 0]).unwrap() else {
            panic!()
        };
        assert_eq!(&req[..4], &[5, 1, 0, 4]);
        assert_eq!(req.len(), 4 + 16 + 2);
        let reply = [5, 0, 0, 3, 1, b'x', 0, 80];
        assert_eq!(s.on_data(&reply).unwrap(), (8, Step::Done));
    }

    #[test]
    fn refusals_are_proxy_errors() {
        let (mut s, _) = Socks5::new(Target::Name("a".into()), 1, None).unwrap();
        let e = s.on_data(&[5, 0xff]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy);
        let (mut s, _) = Socks5::new(Target::Name("a".into()), 1, None).unwrap();
        s.on_data(&[5, 0]).unwrap();
        let e = s.on_data(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert!(e.message().contains("connection refused"), "{e}");
        let (mut s, _) = Socks5::new(Target::Name("a".into()), 1, None).unwrap();
        assert!(s.on_data(&[5, 2]).is_err(), "credentials asked, none given");
        let (mut s, _) = Socks5::new(
            Target::Name("a".into()),
            1,
            Some(Credentials::new("u", "p")),
        )
        .unwrap();
        s.on_data(&[5, 2]).unwrap();
        assert!(s.on_data(&[1, 1]).is_err());
        assert!(Socks5::new(Target::Name("x".repeat(256)), 1, None).is_err());
    }
}
