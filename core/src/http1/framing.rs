//! How long a response body is, and whether its connection can carry another request.
//!
//! RFC 9112 section 6.3, in order:
//! 1. A response to HEAD, and every 1xx, 204 and 304 response, has no body, whatever its
//!    headers say.
//! 2. `Transfer-Encoding` whose last coding is `chunked`: chunked. If `Content-Length` is also
//!    present, chunked wins, but the message may be an attempt at request smuggling, so the
//!    connection is not reused (section 6.1). `Transfer-Encoding` without a final `chunked`:
//!    the body runs until the server closes.
//! 3. `Content-Length`: exactly that many bytes. Repeated or list values must all agree; a
//!    negative, non-numeric or overflowing length is a protocol error.
//! 4. Otherwise: the body runs until the server closes, and the connection cannot be reused.
//!
//! Reuse also follows section 9.3: HTTP/1.1 persists unless either side sent
//! `Connection: close`; HTTP/1.0 persists only with `Connection: keep-alive`. Three more cases
//! close the connection after the response, because the server's idea of the framing cannot be
//! trusted and unread bytes may follow:
//! - A bodiless response (rule 1) whose headers announce a body it cannot have: any
//!   `Transfer-Encoding` (a server that means one for a HEAD or 304 often sends the empty last
//!   chunk anyway), a `Content-Length` on a 204 other than 0 (RFC 9110 section 8.6 forbids it),
//!   or a `Content-Length` that is not a valid number. The response itself succeeds, empty.
//!   A valid `Content-Length` on a HEAD or 304 response is what RFC 9110 section 8.6 asks for
//!   (the length a GET would have had) and keeps the connection.
//! - `Transfer-Encoding` in an HTTP/1.0 response: section 6.1 says to treat the framing as
//!   faulty and close the connection after processing the message, so the body is decoded as
//!   `Transfer-Encoding` says and the connection is then closed.
//! - `Transfer-Encoding` together with `Content-Length` (rule 2).
//!
//! A 205 (Reset Content) is framed like any other response. RFC 9110 section 15.3.6 lets the
//! server say "no content" with `Content-Length: 0`, an empty chunked body or by closing the
//! connection, so it is not in rule 1; a 205 that carries content anyway is read as framed and
//! handed to the caller. OkHttp instead fails a 204 or 205 with a non-zero `Content-Length`;
//! we follow the RFCs, which make both readable without guessing.

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
    let persistent = !request_wants_close
        && match version {
            Version::HTTP_11 => !headers.has_token("connection", "close"),
            _ => {
                headers.has_token("connection", "keep-alive")
                    && !headers.has_token("connection", "close")
            }
        };
    let has_transfer_encoding = headers.contains("transfer-encoding");

    if *method == Method::HEAD || status.is_informational() || matches!(status.as_u16(), 204 | 304)
    {
        let trusted_length = match content_length(headers) {
            Ok(None) => true,
            Ok(Some(n)) => status != StatusCode::NO_CONTENT || n == 0,
            Err(_) => false,
        };
        return Ok(BodyPlan {
            framing: Framing::Empty,
            reusable: persistent && trusted_length && !has_transfer_encoding,
        });
    }

    if has_transfer_encoding {
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
        // Section 6.1: in HTTP/1.0 the framing is faulty; next to Content-Length (which it
        // overrides) it may be a smuggling attempt. Either way, never reuse the connection.
        let reusable =
            persistent && version != Version::HTTP_10 && !headers.contains("content-length");
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

    match content_length(headers)? {
        Some(n) => Ok(BodyPlan {
            framing: Framing::Length(n),
            reusable: persistent,
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
    // Nearly every response has one field of plain digits: that is read here, and anything
    // else (a list, repeats, an invalid value) out of line.
    let mut values = headers.get_all("content-length");
    let Some(first) = values.next() else {
        return Ok(None);
    };
    match parse_decimal(first) {
        Some(n) if values.next().is_none() => Ok(Some(n)),
        _ => content_length_list(headers),
    }
}

/// [`content_length`] for every other case: each value of each field, as a comma list.
#[inline(never)]
fn content_length_list(headers: &Headers) -> Result<Option<u64>, Error> {
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

    fn empty(reusable: bool) -> BodyPlan {
        BodyPlan {
            framing: Framing::Empty,
            reusable,
        }
    }

    #[test]
    fn bodiless_responses_that_announce_a_body_are_empty_and_close_the_connection() {
        let te = ("Transfer-Encoding", "chunked");
        for status in [204, 304] {
            let p = plan_for(status, Version::HTTP_11, &[te]).unwrap();
            assert_eq!(p, empty(false), "{status} with Transfer-Encoding");
            let p = plan_for(status, Version::HTTP_11, &[("Content-Length", "x")]).unwrap();
            assert_eq!(p, empty(false), "{status} with an invalid Content-Length");
        }
        assert_eq!(
            plan_for(204, Version::HTTP_11, &[("Content-Length", "5")]).unwrap(),
            empty(false)
        );
        assert_eq!(
            plan_for(204, Version::HTTP_11, &[("Content-Length", "0")]).unwrap(),
            empty(true)
        );
        // On a 304 the length is the representation's (RFC 9110 section 8.6): trusted.
        assert_eq!(
            plan_for(304, Version::HTTP_11, &[("Content-Length", "5")]).unwrap(),
            empty(true)
        );
        let head = |fields: &[(&str, &str)]| {
            plan(
                &Method::HEAD,
                StatusCode::OK,
                Version::HTTP_11,
                &headers(fields),
                false,
            )
            .unwrap()
        };
        assert_eq!(head(&[te]), empty(false));
        assert_eq!(
            head(&[("Transfer-Encoding", "gzip, chunked")]),
            empty(false)
        );
        assert_eq!(head(&[("Content-Length", "5")]), empty(true));
        assert_eq!(
            head(&[("Content-Length", "5"), ("Connection", "close")]),
            empty(false)
        );
    }

    #[test]
    fn reset_content_is_framed_like_any_response() {
        for (fields, framing) in [
            (&[("Content-Length", "5")][..], Framing::Length(5)),
            (&[("Content-Length", "0")][..], Framing::Length(0)),
            (&[("Transfer-Encoding", "chunked")][..], Framing::Chunked),
        ] {
            let p = plan_for(205, Version::HTTP_11, fields).unwrap();
            assert_eq!(
                p,
                BodyPlan {
                    framing,
                    reusable: true
                }
            );
        }
    }

    #[test]
    fn transfer_encoding_in_http10_is_decoded_and_closes_the_connection() {
        let keep_alive = ("Connection", "keep-alive");
        let p = plan_for(
            200,
            Version::HTTP_10,
            &[("Transfer-Encoding", "chunked"), keep_alive],
        )
        .unwrap();
        assert_eq!(
            p,
            BodyPlan {
                framing: Framing::Chunked,
                reusable: false
            }
        );
        let p = plan_for(
            200,
            Version::HTTP_10,
            &[
                ("Transfer-Encoding", "gzip"),
                ("Content-Length", "3"),
                keep_alive,
            ],
        )
        .unwrap();
        assert_eq!(
            p,
            BodyPlan {
                framing: Framing::UntilClose,
                reusable: false
            }
        );
    }

    #[test]
    fn chunked_wins_over_content_length_but_poisons_reuse() {
        // Whatever the Content-Length says: Transfer-Encoding overrides it.
        let p = plan_for(
            200,
            Version::HTTP_11,
            &[("Content-Length", "x"), ("Transfer-Encoding", "chunked")],
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
