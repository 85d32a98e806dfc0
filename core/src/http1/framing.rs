//! How long a response body is, and whether its connection can carry another request.
//!
//! RFC 9112 section 6.3, in order:
//! 1. A response to HEAD, and every 1xx, 204 and 304 response, has no body, whatever its
//!    headers say.
//! 2. `Transfer-Encoding` whose last coding is `chunked`: chunked. If `Content-Length` is also
//!    present, chunked wins, but the message may be an attempt at request smuggling, so the
//!    connection is not reused (section 6.1). `Transfer-Encoding` without a final `chunked`:
//!    the body runs until the server closes. In an HTTP/1.0 response `Transfer-Encoding` means
//!    the framing is faulty (section 6.1): refused.
//! 3. `Content-Length`: exactly that many bytes. Repeated or list values must all agree; a
//!    negative, non-numeric or overflowing length is a protocol error.
//! 4. Otherwise: the body runs until the server closes, and the connection cannot be reused.
//!
//! Reuse also follows section 9.3: HTTP/1.1 persists unless either side sent
//! `Connection: close`; HTTP/1.0 persists only with `Connection: keep-alive`.
//!
//! OkHttp's rule for 204 and 205 is kept: a non-zero `Content-Length` on either is a protocol
//! error, since the server is announcing content those statuses cannot have.

use http::{Method, StatusCode, Version};

use crate::headers::trim_ows;
use crate::{Error, Headers};

/// How the body of one response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// The framing decision for one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyPlan {
    pub framing: Framing,
    /// False when the connection must not carry another request after this response.
    pub reusable: bool,
}

/// Decides the body framing of a final response to `method`.
pub(crate) fn plan(
    method: &Method,
    status: StatusCode,
    version: Version,
    headers: &Headers,
    request_wants_close: bool,
) -> Result<BodyPlan, Error> {
    let mut reusable = !request_wants_close
        && match version {
            Version::HTTP_11 => !headers.has_token("connection", "close"),
            _ => {
                headers.has_token("connection", "keep-alive")
                    && !headers.has_token("connection", "close")
            }
        };

    let content_length = content_length(headers)?;
    if matches!(status.as_u16(), 204 | 205) && content_length.is_some_and(|n| n > 0) {
        return Err(Error::protocol(format!(
            "HTTP {} had non-zero Content-Length",
            status.as_u16()
        )));
    }
    if *method == Method::HEAD || status.is_informational() || matches!(status.as_u16(), 204 | 304)
    {
        return Ok(BodyPlan {
            framing: Framing::Empty,
            reusable,
        });
    }

    if headers.contains("transfer-encoding") {
        if version == Version::HTTP_10 {
            return Err(Error::protocol("Transfer-Encoding in an HTTP/1.0 response"));
        }
        let codings: Vec<&[u8]> = headers
            .get_all("transfer-encoding")
            .flat_map(|v| v.split(|&b| b == b','))
            .map(trim_ows)
            .filter(|c| !c.is_empty())
            .collect();
        if codings.is_empty() {
            return Err(Error::protocol("empty Transfer-Encoding"));
        }
        let chunked_count = codings
            .iter()
            .filter(|c| c.eq_ignore_ascii_case(b"chunked"))
            .count();
        let last_is_chunked = codings
            .last()
            .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"));
        if chunked_count > 1 {
            return Err(Error::protocol(
                "chunked transfer coding applied more than once",
            ));
        }
        if content_length.is_some() {
            // Section 6.1: Transfer-Encoding overrides Content-Length, and the mix may be a
            // smuggling attempt: never put this connection back in the pool.
            reusable = false;
        }
        if last_is_chunked {
            return Ok(BodyPlan {
                framing: Framing::Chunked,
                reusable,
            });
        }
        return Ok(BodyPlan {
            framing: Framing::UntilClose,
            reusable: false,
        });
    }

    match content_length {
        Some(n) => Ok(BodyPlan {
            framing: Framing::Length(n),
            reusable,
        }),
        None => Ok(BodyPlan {
            framing: Framing::UntilClose,
            reusable: false,
        }),
    }
}

/// The `Content-Length`, if present: every value (repeated fields, comma lists) must be the same
/// non-negative decimal number that fits in a u64.
fn content_length(headers: &Headers) -> Result<Option<u64>, Error> {
    let mut found: Option<u64> = None;
    for value in headers.get_all("content-length") {
        for item in value.split(|&b| b == b',') {
            let item = trim_ows(item);
            let n = parse_decimal(item).ok_or_else(|| {
                Error::protocol(format!(
                    "invalid Content-Length {:?}",
                    String::from_utf8_lossy(value)
                ))
            })?;
            match found {
                Some(prev) if prev != n => {
                    return Err(Error::protocol(format!(
                        "conflicting Content-Length values {prev} and {n}"
                    )));
                }
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in fields {
            h.append(n, v).unwrap();
        }
        h
    }

    fn plan_for(status: u16, version: Version, fields: &[(&str, &str)]) -> Result<BodyPlan, Error> {
        plan(
            &Method::GET,
            StatusCode::from_u16(status).unwrap(),
            version,
            &headers(fields),
            false,
        )
    }

    #[test]
    fn bodiless_responses() {
        for status in [204, 304, 103] {
            assert_eq!(
                plan_for(status, Version::HTTP_11, &[]).unwrap().framing,
                Framing::Empty
            );
        }
        let head = plan(
            &Method::HEAD,
            StatusCode::OK,
            Version::HTTP_11,
            &headers(&[("Content-Length", "10")]),
            false,
        );
        assert_eq!(
            head.unwrap(),
            BodyPlan {
                framing: Framing::Empty,
                reusable: true
            }
        );
        assert_eq!(
            plan_for(304, Version::HTTP_11, &[("Content-Length", "10")])
                .unwrap()
                .framing,
            Framing::Empty
        );
    }

    #[test]
    fn no_content_with_a_length_is_refused() {
        assert!(plan_for(204, Version::HTTP_11, &[("Content-Length", "5")]).is_err());
        assert!(plan_for(205, Version::HTTP_11, &[("Content-Length", "5")]).is_err());
        assert!(plan_for(204, Version::HTTP_11, &[("Content-Length", "0")]).is_ok());
    }

    #[test]
    fn chunked_wins_over_content_length_but_poisons_reuse() {
        let p = plan_for(
            200,
            Version::HTTP_11,
            &[("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
        );
        assert_eq!(
            p.unwrap(),
            BodyPlan {
                framing: Framing::Chunked,
                reusable: false
            }
        );
        let p = plan_for(
            200,
            Version::HTTP_11,
            &[("Transfer-Encoding", "gzip, chunked")],
        )
        .unwrap();
        assert_eq!(
            p,
            BodyPlan {
                framing: Framing::Chunked,
                reusable: true
            }
        );
        let p = plan_for(200, Version::HTTP_11, &[("Transfer-Encoding", "gzip")]).unwrap();
        assert_eq!(
            p,
            BodyPlan {
                framing: Framing::UntilClose,
                reusable: false
            }
        );
        assert!(
            plan_for(
                200,
                Version::HTTP_11,
                &[("Transfer-Encoding", "chunked, chunked")]
            )
            .is_err()
        );
        assert!(plan_for(200, Version::HTTP_10, &[("Transfer-Encoding", "chunked")]).is_err());
        assert!(plan_for(200, Version::HTTP_11, &[("Transfer-Encoding", " , ")]).is_err());
        assert!(plan_for(200, Version::HTTP_11, &[("Transfer-Encoding", "")]).is_err());
    }

    #[test]
    fn content_length_values_must_agree_and_be_numbers() {
        let ok = plan_for(
            200,
            Version::HTTP_11,
            &[("Content-Length", "5, 5"), ("Content-Length", "5")],
        );
        assert_eq!(ok.unwrap().framing, Framing::Length(5));
        for bad in [
            "5, 6",
            "-1",
            "12abc",
            "",
            "99999999999999999999999",
            "+5",
            "0x10",
        ] {
            assert!(
                plan_for(200, Version::HTTP_11, &[("Content-Length", bad)]).is_err(),
                "{bad:?}"
            );
        }
        assert!(
            plan_for(
                200,
                Version::HTTP_11,
                &[("Content-Length", "5"), ("Content-Length", "6")]
            )
            .is_err()
        );
    }

    #[test]
    fn reuse_follows_version_and_connection_tokens() {
        let cl = ("Content-Length", "1");
        assert!(plan_for(200, Version::HTTP_11, &[cl]).unwrap().reusable);
        assert!(
            !plan_for(200, Version::HTTP_11, &[cl, ("Connection", "close")])
                .unwrap()
                .reusable
        );
        assert!(!plan_for(200, Version::HTTP_10, &[cl]).unwrap().reusable);
        assert!(
            plan_for(200, Version::HTTP_10, &[cl, ("Connection", "Keep-Alive")])
                .unwrap()
                .reusable
        );
        assert!(
            !plan_for(200, Version::HTTP_11, &[]).unwrap().reusable,
            "close-delimited"
        );
        let p = plan(
            &Method::GET,
            StatusCode::OK,
            Version::HTTP_11,
            &headers(&[cl]),
            true,
        )
        .unwrap();
        assert!(!p.reusable, "the request asked to close");
    }
}
