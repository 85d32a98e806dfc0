//! Every vector file parses and is consistent, and the build script, which generates the
//! runners' tests (core and the runtimes, one per vector and variant), read each vector as the
//! parser does. This file runs no client code: the runners replay the vectors.

use wayfarer_tests::vector::{self, BodySpec, Step, Variant};

/// What `build.rs` saw: each vector's path and whether it took it as whole-only.
const SEEN_BY_BUILD_SCRIPT: &[(&str, bool)] =
    include!(concat!(env!("OUT_DIR"), "/vectors_seen.rs"));

#[test]
fn the_build_script_generates_tests_for_exactly_the_parsed_vectors() {
    let paths = vector::parse::all_paths();
    let seen: Vec<&str> = SEEN_BY_BUILD_SCRIPT.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        seen, paths,
        "build.rs and the parser disagree on the vector files"
    );
    for (path, whole_only) in SEEN_BY_BUILD_SCRIPT {
        // A whole-only vector must get only the `whole` variant, and every other one all.
        assert_eq!(
            vector::load(path).config.whole_only,
            *whole_only,
            "{path}: build.rs and the parser disagree on `fragment whole`"
        );
    }
}

/// The variant lists in build.rs are written out by hand; they must match the model.
#[test]
fn build_script_variants_match_the_model() {
    let all: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
    let socket: Vec<&str> = Variant::SOCKET.iter().map(|v| v.name()).collect();
    assert_eq!(all, ["whole", "bytewise", "coalesced", "split3"]);
    assert_eq!(socket, ["whole", "bytewise"]);
}

#[test]
fn every_vector_parses_and_is_consistent() {
    let paths = vector::parse::all_paths();
    assert!(paths.len() >= 55, "only {} vectors", paths.len());
    let mut problems = Vec::new();
    for path in &paths {
        let v = vector::load(path);
        if v.description.trim().is_empty() {
            problems.push(format!("{path}: no description comment"));
        }
        for (i, e) in v.expect_calls.iter().enumerate() {
            if let (Some(body), Some(len)) = (&e.body, e.body_len) {
                if body.len() != len {
                    problems.push(format!(
                        "{path}: call {}: body is {} bytes but body-len {len}",
                        i + 1,
                        body.len()
                    ));
                }
            }
        }
        for (i, c) in v.calls.iter().enumerate() {
            if let BodySpec::Stream {
                len: Some(len),
                pieces,
            } = &c.body
            {
                let total: usize = pieces.iter().map(Vec::len).sum();
                if total as u64 != *len {
                    problems.push(format!(
                        "{path}: call {}: stream-sized {len} but {total} bytes",
                        i + 1
                    ));
                }
            }
        }
        // A script must accept a connection before acting on one.
        for script in v.scripts() {
            let first_conn_step = script.iter().position(|s| !matches!(s, Step::Pause(_)));
            if let Some(i) = first_conn_step {
                if script[i] != Step::Accept {
                    problems.push(format!("{path}: a script acts before its first accept"));
                }
            }
        }
        // Every expected successful body must be sent by an origin somewhere (verbatim unless the
        // origin uses chunked framing or gzip), which catches most typos in either place.
        let sent: Vec<u8> = v
            .scripts()
            .iter()
            .flatten()
            .filter_map(|s| {
                if let Step::Send(b) = s {
                    Some(b.as_slice())
                } else {
                    None
                }
            })
            .flatten()
            .copied()
            .collect();
        let chunked = sent.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked"))
            || sent
                .windows(22)
                .any(|w| w.eq_ignore_ascii_case(b"content-encoding: gzip"));
        for (i, e) in v.expect_calls.iter().enumerate() {
            if let Some(body) = &e.body {
                if !body.is_empty()
                    && !chunked
                    && !sent.windows(body.len()).any(|w| w == body.as_slice())
                {
                    problems.push(format!(
                        "{path}: call {}: the expected body is never sent",
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
