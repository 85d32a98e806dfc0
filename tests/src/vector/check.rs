//! Compares what a runner recorded with what a vector expects.
//!
//! Every runner (the core simulation and each runtime over the scripted origin) ends with the same
//! call: `check(&vector, &outcomes, &records, &authorities)`. All mismatches are collected, not just
//! the first, and the report prints byte strings in the vector's own literal syntax, so a failure
//! can be read next to the `.vec` file without re-running anything.

use super::model::{
    Authorities, CallExpect, OriginExpect, OriginRecord, Outcome, RecordedRequest, Vector,
};

/// Byte strings longer than this are shown as a prefix plus their length, so a 100 kB body does not
/// drown the report.
const SHOW_LIMIT: usize = 300;

/// Checks `outcomes` (one per call, in call order) and the origins' `records` (the first origin's,
/// then the second's if the vector has one) against `vector`.
///
/// `authorities` expands the placeholders (`{authority}`, `{authority2}`, ...) in every expected
/// string. The rules:
/// - a call whose `[expect call N]` has no `status` must have produced no response head;
/// - a call whose section has no `error` must not have failed; a call without a section must
///   simply not have failed;
/// - `header` matches if any response header of that name (case-insensitive) has exactly the value;
/// - any entry in `record.errors` (a script step that went wrong) is a failure.
///
/// On failure the error lists every mismatch, then what the calls and the origin actually did.
pub fn check(
    vector: &Vector,
    outcomes: &[Outcome],
    records: &[OriginRecord],
    authorities: &Authorities,
) -> Result<(), String> {
    let expand = |bytes: &[u8]| authorities.expand(bytes);
    let mut problems = Vec::new();

    let origins = 1 + usize::from(vector.origin2.is_some());
    if records.len() != origins {
        problems.push(format!(
            "the runner recorded {} origin(s) for a vector with {origins}",
            records.len()
        ));
    }

    if outcomes.len() != vector.calls.len() {
        problems.push(format!(
            "the runner recorded {} outcomes for {} calls",
            outcomes.len(),
            vector.calls.len()
        ));
    }
    let default = CallExpect::default();
    for (i, outcome) in outcomes.iter().enumerate() {
        let expect = vector.expect_calls.get(i).unwrap_or(&default);
        check_call(expect, outcome, &expand, &mut |p| {
            problems.push(format!("call {}: {p}", i + 1))
        });
    }

    let expects = [&vector.expect_origin, &vector.expect_origin2];
    for (i, record) in records.iter().enumerate() {
        let label = if i == 0 { "origin" } else { "origin 2" };
        for error in &record.errors {
            problems.push(format!("{label}: {error}"));
        }
        for expect in expects.get(i).into_iter().flat_map(|e| e.iter()) {
            check_origin(expect, record, &expand, &mut |p| {
                problems.push(format!("{label}: {p}"))
            });
        }
    }

    if problems.is_empty() {
        return Ok(());
    }
    let mut report = format!(
        "vector {} failed with {} mismatch{}:\n",
        vector.name,
        problems.len(),
        if problems.len() == 1 { "" } else { "es" }
    );
    for p in &problems {
        report.push_str(&format!("  - {p}\n"));
    }
    report.push_str("what happened:\n");
    for (i, outcome) in outcomes.iter().enumerate() {
        report.push_str(&format!(
            "  call {}: {}\n",
            i + 1,
            describe_outcome(outcome)
        ));
    }
    for (i, record) in records.iter().enumerate() {
        let label = if i == 0 { "origin" } else { "origin 2" };
        report.push_str(&describe_record(label, record));
    }
    Err(report)
}

fn check_call(
    expect: &CallExpect,
    outcome: &Outcome,
    expand: &dyn Fn(&[u8]) -> Vec<u8>,
    problem: &mut dyn FnMut(String),
) {
    match (expect.status, &outcome.head) {
        (Some(want), Some(head)) if head.status != want => {
            problem(format!("status: expected {want}, got {}", head.status));
        }
        (Some(want), None) => problem(format!(
            "status: expected {want}, but no response head arrived"
        )),
        // No `status` but an `error`: the call must have failed before any head.
        (None, Some(head)) if expect.error.is_some() => problem(format!(
            "expected no response head (the call should fail before one), got status {}",
            head.status
        )),
        _ => {}
    }
    match (&expect.error, &outcome.error) {
        (None, Some(got)) => problem(format!(
            "expected success, got error {} \"{}\"",
            got.kind,
            escape(got.message.as_bytes())
        )),
        (Some((kind, text)), None) => problem(format!(
            "expected error {kind}{}, but the call succeeded",
            text.as_ref()
                .map(|t| format!(" containing \"{t}\""))
                .unwrap_or_default()
        )),
        (Some((kind, text)), Some(got)) => {
            if &got.kind != kind {
                problem(format!(
                    "error kind: expected {kind}, got {} \"{}\"",
                    got.kind,
                    escape(got.message.as_bytes())
                ));
            }
            if let Some(text) = text {
                let text = expand(text.as_bytes());
                if !contains(got.message.as_bytes(), &text) {
                    problem(format!(
                        "error message: expected it to contain \"{}\", got \"{}\"",
                        escape(&text),
                        escape(got.message.as_bytes())
                    ));
                }
            }
        }
        (None, None) => {}
    }

    let head = outcome.head.as_ref();
    let no_head = |what: &str| format!("{what}: expected, but no response head arrived");
    if let Some(reason) = &expect.reason {
        let want = expand(reason.as_bytes());
        match head {
            None => problem(no_head("reason")),
            Some(h) if h.reason.as_bytes() != want.as_slice() => problem(format!(
                "reason: expected \"{}\", got \"{}\"",
                escape(&want),
                escape(h.reason.as_bytes())
            )),
            Some(_) => {}
        }
    }
    if let Some(version) = &expect.version {
        match head {
            None => problem(no_head("version")),
            Some(h) if &h.version != version => {
                problem(format!("version: expected {version}, got {}", h.version));
            }
            Some(_) => {}
        }
    }
    for (name, value) in &expect.headers {
        let want = expand(value);
        let Some(h) = head else {
            problem(no_head(&format!("header {name}")));
            continue;
        };
        let values = header_values(&h.headers, name);
        if !values.contains(&want.as_slice()) {
            problem(format!(
                "header {name}: expected \"{}\", got {}",
                escape(&want),
                show_values(&values)
            ));
        }
    }
    for name in &expect.no_headers {
        if let Some(h) = head {
            let values = header_values(&h.headers, name);
            if !values.is_empty() {
                problem(format!(
                    "header {name}: expected none, got {}",
                    show_values(&values)
                ));
            }
        }
    }
    if let Some(body) = &expect.body {
        let want = expand(body);
        if outcome.body != want {
            problem(format!(
                "body: expected {}, got {}",
                show(&want),
                show(&outcome.body)
            ));
        }
    }
    if let Some(url) = &expect.url {
        let want = expand(url.as_bytes());
        match head {
            None => problem(no_head("url")),
            Some(h) if h.url.as_bytes() != want.as_slice() => problem(format!(
                "url: expected \"{}\", got \"{}\"",
                escape(&want),
                escape(h.url.as_bytes())
            )),
            Some(_) => {}
        }
    }
    if let Some(prior) = &expect.prior {
        match head {
            None => problem(no_head("prior")),
            Some(h) if &h.prior != prior => problem(format!(
                "prior responses: expected {}, got {}",
                show_statuses(prior),
                show_statuses(&h.prior)
            )),
            Some(_) => {}
        }
    }
    if let Some(len) = expect.body_len {
        if outcome.body.len() != len {
            problem(format!(
                "body length: expected {len}, got {}",
                outcome.body.len()
            ));
        }
    }
}

fn check_origin(
    expect: &OriginExpect,
    record: &OriginRecord,
    expand: &dyn Fn(&[u8]) -> Vec<u8>,
    problem: &mut dyn FnMut(String),
) {
    let request = |n: usize, problem: &mut dyn FnMut(String)| -> Option<&RecordedRequest> {
        let found = record.requests.get(n.wrapping_sub(1));
        if found.is_none() {
            problem(format!(
                "request {n}: expected, but the origin read only {} request(s)",
                record.requests.len()
            ));
        }
        found
    };
    match expect {
        OriginExpect::Connections(n) if record.connections != *n => {
            problem(format!(
                "connections: expected {n}, got {}",
                record.connections
            ));
        }
        OriginExpect::Requests(n) if record.requests.len() != *n => {
            problem(format!(
                "requests: expected {n}, got {}",
                record.requests.len()
            ));
        }
        OriginExpect::RequestConn { request: n, conn } => {
            if let Some(r) = request(*n, problem) {
                if r.conn != *conn {
                    problem(format!(
                        "request {n}: expected on connection {conn}, got connection {}",
                        r.conn
                    ));
                }
            }
        }
        OriginExpect::RequestLine { request: n, line } => {
            if let Some(r) = request(*n, problem) {
                let want = expand(line.as_bytes());
                if r.line.as_bytes() != want.as_slice() {
                    problem(format!(
                        "request {n} line: expected \"{}\", got \"{}\"",
                        escape(&want),
                        escape(r.line.as_bytes())
                    ));
                }
            }
        }
        OriginExpect::RequestHeader {
            request: n,
            name,
            value,
        } => {
            if let Some(r) = request(*n, problem) {
                let want = expand(value);
                let values = header_values(&r.headers, name);
                if !values.contains(&want.as_slice()) {
                    problem(format!(
                        "request {n} header {name}: expected \"{}\", got {}",
                        escape(&want),
                        show_values(&values)
                    ));
                }
            }
        }
        OriginExpect::RequestNoHeader { request: n, name } => {
            if let Some(r) = request(*n, problem) {
                let values = header_values(&r.headers, name);
                if !values.is_empty() {
                    problem(format!(
                        "request {n} header {name}: expected none, got {}",
                        show_values(&values)
                    ));
                }
            }
        }
        OriginExpect::RequestBody { request: n, body } => {
            if let Some(r) = request(*n, problem) {
                let want = expand(body);
                if r.body != want {
                    problem(format!(
                        "request {n} body: expected {}, got {}",
                        show(&want),
                        show(&r.body)
                    ));
                }
            }
        }
        OriginExpect::RequestRawBody { request: n, raw } => {
            if let Some(r) = request(*n, problem) {
                let want = expand(raw);
                if r.raw_body != want {
                    problem(format!(
                        "request {n} raw body: expected {}, got {}",
                        show(&want),
                        show(&r.raw_body)
                    ));
                }
            }
        }
        OriginExpect::ClosedByClient(conn) if !record.closed_by_client.contains(conn) => {
            problem(format!(
                "closed-by-client: expected the client to close connection {conn}; closes seen: {:?}",
                record.closed_by_client
            ));
        }
        _ => {}
    }
}

/// `302 301`, or `none`.
fn show_statuses(statuses: &[u16]) -> String {
    if statuses.is_empty() {
        return "none".to_string();
    }
    let words: Vec<String> = statuses.iter().map(u16::to_string).collect();
    words.join(" ")
}

/// Renders bytes the way a vector literal writes them (without the quotes): printable ASCII as is,
/// `\r \n \t \0 \\ \"` and `\xHH` for everything else.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0 => out.push_str("\\0"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// A quoted, escaped rendering of `bytes`, cut to a prefix and a length when long.
pub fn show(bytes: &[u8]) -> String {
    if bytes.len() <= SHOW_LIMIT {
        format!("\"{}\" ({} bytes)", escape(bytes), bytes.len())
    } else {
        format!(
            "\"{}\"... ({} bytes)",
            escape(&bytes[..SHOW_LIMIT]),
            bytes.len()
        )
    }
}

fn show_values(values: &[&[u8]]) -> String {
    if values.is_empty() {
        return "no such header".to_string();
    }
    let quoted: Vec<String> = values
        .iter()
        .map(|v| format!("\"{}\"", escape(v)))
        .collect();
    quoted.join(", ")
}

fn header_values<'h>(headers: &'h [(String, Vec<u8>)], name: &str) -> Vec<&'h [u8]> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn describe_outcome(outcome: &Outcome) -> String {
    let mut out = match &outcome.head {
        None => "no head".to_string(),
        Some(h) => {
            let headers: Vec<String> = h
                .headers
                .iter()
                .map(|(n, v)| format!("{n}: {}", escape(v)))
                .collect();
            format!(
                "{} {} \"{}\" [{}] from {}, prior {}",
                h.version,
                h.status,
                escape(h.reason.as_bytes()),
                headers.join("; "),
                h.url,
                show_statuses(&h.prior)
            )
        }
    };
    out.push_str(&format!(", body {}", show(&outcome.body)));
    match &outcome.error {
        None => out.push_str(", no error"),
        Some(e) => out.push_str(&format!(
            ", error {} \"{}\"",
            e.kind,
            escape(e.message.as_bytes())
        )),
    }
    out
}

fn describe_record(label: &str, record: &OriginRecord) -> String {
    let mut out = format!(
        "  {label}: {} connection(s), {} request(s), closed by client: {:?}\n",
        record.connections,
        record.requests.len(),
        record.closed_by_client
    );
    for (i, r) in record.requests.iter().enumerate() {
        let headers: Vec<String> = r
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {}", escape(v)))
            .collect();
        out.push_str(&format!(
            "  request {} on conn {}: \"{}\" [{}] raw body {}\n",
            i + 1,
            r.conn,
            escape(r.line.as_bytes()),
            headers.join("; "),
            show(&r.raw_body)
        ));
    }
    out
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
