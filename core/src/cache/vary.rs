//! `Vary`: which request headers select a stored response (RFC 9111 section 4.1), as OkHttp's
//! `Cache.varyFields`, `varyHeaders` and `varyMatches`.
//!
//! A stored response answers a new request only if every request header its `Vary` names has
//! the same values, in the same order, as in the request that fetched it (values compared
//! exactly after trimming spaces, as OkHttp does). `Vary: *` matches nothing, so such responses
//! are never stored.

use bytes::Bytes;

use crate::Headers;
use crate::headers::trim_ows;

/// The request header names `response_headers` vary on, from every `Vary` field, each once
/// (compared case-insensitively), in the order first named.
pub fn vary_fields(response_headers: &Headers) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for value in response_headers.get_all("vary") {
        for item in value.split(|&b| b == b',') {
            let item = trim_ows(item);
            if item.is_empty() {
                continue;
            }
            let name = String::from_utf8_lossy(item);
            if !fields.iter().any(|f| f.eq_ignore_ascii_case(&name)) {
                fields.push(name.into_owned());
            }
        }
    }
    fields
}

/// True when a `Vary` field names `*`: the response varies on things outside the request
/// headers, so it can neither be stored nor match.
pub fn has_vary_all(response_headers: &Headers) -> bool {
    vary_fields(response_headers).iter().any(|f| f == "*")
}

/// The fields of `request_headers` that `response_headers` varies on, in request order: what an
/// entry keeps of its request.
pub fn vary_headers(request_headers: &Headers, response_headers: &Headers) -> Headers {
    let fields = vary_fields(response_headers);
    let mut out = Headers::new();
    if fields.is_empty() {
        return out;
    }
    for (name, value) in request_headers.iter() {
        if fields.iter().any(|f| f.eq_ignore_ascii_case(name)) {
            // Both halves come from a valid `Headers`, so they need no new validation.
            out.push_unchecked(
                Bytes::copy_from_slice(name.as_bytes()),
                Bytes::copy_from_slice(value),
            );
        }
    }
    out
}

/// True when `new_request` has, for every field the stored response varies on, exactly the
/// values `stored_request` had. Always false for `Vary: *`.
pub fn vary_matches(
    response_headers: &Headers,
    stored_request: &Headers,
    new_request: &Headers,
) -> bool {
    let fields = vary_fields(response_headers);
    fields.iter().all(|field| {
        field != "*"
            && stored_request
                .get_all(field)
                .map(trim_ows)
                .eq(new_request.get_all(field).map(trim_ows))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::test_headers as headers;

    #[test]
    fn fields_come_from_every_vary_line_once() {
        let h = headers(&[
            ("Vary", "Accept-Encoding, accept-language"),
            ("vary", " ACCEPT-ENCODING ,, User-Agent"),
        ]);
        assert_eq!(
            vary_fields(&h),
            ["Accept-Encoding", "accept-language", "User-Agent"]
        );
        assert!(!has_vary_all(&h));
        assert!(has_vary_all(&headers(&[("Vary", "Accept, *")])));
    }

    #[test]
    fn keeps_only_the_varying_request_headers() {
        let request = headers(&[
            ("Accept", "a"),
            ("Accept-Language", "fr"),
            ("accept-language", "en"),
            ("X", "1"),
        ]);
        let response = headers(&[("Vary", "accept-language, Absent")]);
        let kept = vary_headers(&request, &response);
        assert_eq!(
            kept,
            headers(&[("Accept-Language", "fr"), ("accept-language", "en")])
        );
        assert!(vary_headers(&request, &Headers::new()).is_empty());
    }

    #[test]
    fn matching_compares_every_value_in_order() {
        let response = headers(&[("Vary", "Accept-Language")]);
        let stored = headers(&[("Accept-Language", "fr"), ("Accept-Language", "en")]);
        let same = headers(&[("accept-language", " fr "), ("ACCEPT-LANGUAGE", "en")]);
        let reordered = headers(&[("Accept-Language", "en"), ("Accept-Language", "fr")]);
        let fewer = headers(&[("Accept-Language", "fr")]);
        let case = headers(&[("Accept-Language", "FR"), ("Accept-Language", "en")]);
        assert!(vary_matches(&response, &stored, &same));
        assert!(!vary_matches(&response, &stored, &reordered));
        assert!(!vary_matches(&response, &stored, &fewer));
        assert!(!vary_matches(&response, &stored, &case));
        // Absent on both sides matches; absent on one side does not.
        assert!(vary_matches(&response, &Headers::new(), &Headers::new()));
        assert!(!vary_matches(&response, &Headers::new(), &fewer));
        // Vary: * never matches, even identical requests.
        let all = headers(&[("Vary", "*")]);
        assert!(!vary_matches(&all, &Headers::new(), &Headers::new()));
    }
}
