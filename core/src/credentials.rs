//! Credentials written into a URL (`http://user:pass@host/`), turned into the `Authorization`
//! header that curl, browsers and reqwest send for them (OkHttp's `Credentials.basic`).
//!
//! The userinfo leaves the URL as the request is built, so it never reaches the request line,
//! the `Host` header, an error message, an event or a log; only the header carries it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use url::Url;

/// `Basic base64(user:password)`, the RFC 7617 form. The bytes are sent as given: RFC 7617 lets
/// the server ask for UTF-8, and a percent-decoded URL is what the user typed.
pub(crate) fn basic(user: &[u8], password: &[u8]) -> String {
    let mut pair = Vec::with_capacity(user.len() + 1 + password.len());
    pair.extend_from_slice(user);
    pair.push(b':');
    pair.extend_from_slice(password);
    format!("Basic {}", STANDARD.encode(pair))
}

/// Removes the userinfo from `url` and returns the `Authorization` value it stood for, or `None`
/// when the URL has none. Both parts are percent-decoded first (`p%40ss` is the password
/// `p@ss`); a user name alone still sends credentials, with an empty password, as curl does.
pub(crate) fn take_from_url(url: &mut Url) -> Option<String> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let user: Vec<u8> = percent_decode_str(url.username()).collect();
    let password: Vec<u8> = url
        .password()
        .map(|p| percent_decode_str(p).collect())
        .unwrap_or_default();
    // Clearing the userinfo only fails for URLs that cannot have one (no host), which the
    // request refuses anyway.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some(basic(&user, &password))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(url: &str) -> (Option<String>, String) {
        let mut url = Url::parse(url).unwrap();
        let auth = take_from_url(&mut url);
        (auth, url.to_string())
    }

    #[test]
    fn basic_matches_rfc_7617() {
        // RFC 7617 section 2's example.
        assert_eq!(
            basic(b"Aladdin", b"open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn userinfo_becomes_basic_credentials_and_leaves_the_url() {
        let (auth, url) = take("http://user:pass@h.test:8080/a?b=1");
        assert_eq!(auth.as_deref(), Some("Basic dXNlcjpwYXNz"));
        assert_eq!(url, "http://h.test:8080/a?b=1");
    }

    #[test]
    fn both_parts_are_percent_decoded() {
        // "us:er" and "p@ss w" once decoded.
        let (auth, url) = take("https://us%3Aer:p%40ss%20w@h.test/");
        assert_eq!(auth, Some(basic(b"us:er", b"p@ss w")));
        assert_eq!(url, "https://h.test/");
        // A non-UTF-8 byte goes out as it is.
        let (auth, _) = take("http://u:%FF@h.test/");
        assert_eq!(auth, Some(basic(b"u", b"\xff")));
    }

    #[test]
    fn a_user_alone_or_a_password_alone_still_counts() {
        assert_eq!(take("http://user@h.test/").0, Some(basic(b"user", b"")));
        assert_eq!(
            take("http://:secret@h.test/").0,
            Some(basic(b"", b"secret"))
        );
    }

    #[test]
    fn a_url_without_userinfo_is_left_alone() {
        assert_eq!(
            take("http://h.test/x"),
            (None, "http://h.test/x".to_string())
        );
    }
}
