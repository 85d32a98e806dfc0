//! Answering authentication challenges: a 401 goes to the client's [`Authenticator`], a 407 to
//! its proxy authenticator (OkHttp's `Authenticator`).
//!
//! An authenticator looks at the challenge and returns the request to send instead (usually the
//! same request with an `Authorization` field), or `None` to give up, in which case the 401
//! reaches the caller. It runs on the thread or task driving the call, so it must not block for
//! long.
//!
//! An authenticator that keeps answering with the credentials the server just refused would
//! loop until the follow-up limit; the retry-and-follow-up link stops after
//! [`MAX_SAME_CREDENTIALS`] identical answers and returns the challenge instead.

use base64::Engine as _;

use crate::{Request, Response};

/// How many times in a row an authenticator may answer with the credentials the server just
/// refused before the challenge is returned to the caller.
pub const MAX_SAME_CREDENTIALS: u32 = 3;

/// Answers `401 Unauthorized` (and, for a proxy, `407 Proxy Authentication Required`).
///
/// ```
/// use wayfarer_core::{Authenticator, Config, Request, Response};
///
/// struct Token;
/// impl Authenticator for Token {
///     fn authenticate(&self, challenge: &Response<()>) -> Option<Request> {
///         if challenge.request().header("authorization").is_some() {
///             return None; // our token was refused: give up
///         }
///         let mut request = challenge.request().clone();
///         request.headers_mut().set("Authorization", "Bearer secret").ok()?;
///         Some(request)
///     }
/// }
/// let config = Config::builder().authenticator(Token).build()?;
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub trait Authenticator: Send + Sync {
    /// The request to send in answer to `challenge` (a 401 or 407 to `challenge.request()`),
    /// or `None` to give up and return the challenge.
    fn authenticate(&self, challenge: &Response<()>) -> Option<Request>;
}

/// Basic credentials (RFC 7617), sent when the server asks for them: the built-in
/// [`Authenticator`] for a user name and password.
///
/// It answers a challenge that offers the `Basic` scheme (or names none), and gives up when the
/// request it is asked about already carried these credentials, so a wrong password ends in the
/// 401 rather than a loop.
///
/// ```
/// use wayfarer_core::{BasicAuthenticator, Config};
///
/// let config = Config::builder()
///     .authenticator(BasicAuthenticator::new("aladdin", "open sesame"))
///     .build()?;
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
#[derive(Clone)]
pub struct BasicAuthenticator {
    value: String,
    header: &'static str,
}

impl std::fmt::Debug for BasicAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuthenticator")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl BasicAuthenticator {
    /// Credentials for a server (`Authorization`).
    pub fn new(user: &str, password: &str) -> BasicAuthenticator {
        BasicAuthenticator {
            value: basic_credentials(user, password),
            header: "Authorization",
        }
    }

    /// Credentials for a proxy (`Proxy-Authorization`).
    pub fn for_proxy(user: &str, password: &str) -> BasicAuthenticator {
        BasicAuthenticator {
            value: basic_credentials(user, password),
            header: "Proxy-Authorization",
        }
    }
}

impl Authenticator for BasicAuthenticator {
    fn authenticate(&self, challenge: &Response<()>) -> Option<Request> {
        let challenged = if self.header == "Authorization" {
            "www-authenticate"
        } else {
            "proxy-authenticate"
        };
        let mut schemes = challenge.headers().get_all(challenged).peekable();
        let offers_basic = schemes.peek().is_none()
            || challenge
                .headers()
                .get_all(challenged)
                .any(|v| offers_scheme(v, b"basic"));
        if !offers_basic {
            return None;
        }
        let previous = challenge.request();
        if previous.header(self.header) == Some(self.value.as_str()) {
            return None;
        }
        let mut request = previous.clone();
        request.headers_mut().set(self.header, &self.value).ok()?;
        Some(request)
    }
}

/// `Basic base64(user:password)`, the user name and password taken as given (UTF-8).
pub fn basic_credentials(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    )
}

/// Whether a `WWW-Authenticate` value offers `scheme` (case-insensitive) among its challenges.
fn offers_scheme(value: &[u8], scheme: &[u8]) -> bool {
    // Challenges are `scheme [params]`, comma-separated, and params contain commas too, so
    // look for the scheme as a token at the start or right after a comma, counting only the
    // commas outside quoted strings (`error_description="no, basic"` offers nothing).
    comma_separated(value)
        .map(crate::headers::trim_ows)
        .any(|part| {
            part.len() >= scheme.len()
                && part[..scheme.len()].eq_ignore_ascii_case(scheme)
                && part
                    .get(scheme.len())
                    .is_none_or(|&b| b == b' ' || b == b'\t')
        })
}

/// `value` split at the commas that are not inside a quoted string (RFC 9110 section 5.6.4:
/// a backslash inside quotes escapes the next byte).
fn comma_separated(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut quoted = false;
    let mut escaped = false;
    value.split(move |&b| {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            return true;
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusCode;

    fn challenge(request: Request, www: Option<&str>) -> Response<()> {
        let mut r = Response::new(StatusCode::UNAUTHORIZED, request);
        if let Some(w) = www {
            r.headers_mut().append("WWW-Authenticate", w).unwrap();
        }
        r
    }

    #[test]
    fn basic_credentials_encode_as_rfc_7617_says() {
        assert_eq!(
            basic_credentials("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn answers_once_then_gives_up() {
        let auth = BasicAuthenticator::new("u", "p");
        let first = Request::get("http://a.test/").build().unwrap();
        let next = auth
            .authenticate(&challenge(first, Some("Basic realm=\"x\"")))
            .unwrap();
        assert_eq!(next.header("authorization"), Some("Basic dTpw"));
        assert!(
            auth.authenticate(&challenge(next, Some("Basic realm=\"x\"")))
                .is_none()
        );
    }

    #[test]
    fn only_answers_basic_challenges() {
        let auth = BasicAuthenticator::new("u", "p");
        let get = || Request::get("http://a.test/").build().unwrap();
        assert!(
            auth.authenticate(&challenge(get(), Some("Bearer realm=\"x\"")))
                .is_none()
        );
        assert!(
            auth.authenticate(&challenge(
                get(),
                Some("Bearer realm=\"a,b\", basic realm=\"x\"")
            ))
            .is_some()
        );
        assert!(auth.authenticate(&challenge(get(), None)).is_some());
        assert!(
            auth.authenticate(&challenge(get(), Some("Basicx")))
                .is_none()
        );
    }

    #[test]
    fn a_scheme_named_inside_a_quoted_parameter_is_not_offered() {
        let auth = BasicAuthenticator::new("u", "p");
        let get = || Request::get("http://a.test/").build().unwrap();
        for www in [
            "Bearer realm=\"example\", error_description=\"use, basic auth is disabled\"",
            // An escaped quote does not end the quoted string.
            "Bearer error_description=\"say \\\", basic\\\" to no one\"",
        ] {
            assert!(
                auth.authenticate(&challenge(get(), Some(www))).is_none(),
                "{www}"
            );
        }
        // After the quoted string closes, a comma separates challenges again.
        let www = "Bearer error_description=\"a, b\", Basic realm=\"x\"";
        assert!(auth.authenticate(&challenge(get(), Some(www))).is_some());
        assert_eq!(
            comma_separated(b"a=\"x,y\", b").collect::<Vec<_>>(),
            [&b"a=\"x,y\""[..], &b" b"[..]]
        );
    }
}
