//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) on the stable toolchain.
//!
//! Each fuzz target in `fuzz/fuzz_targets/` is a one-liner over an entry point in
//! `wayfarer_core::fuzzing`; here every corpus file goes through the same entry point, so a
//! crash the fuzzer once found (and that was added to the corpus) stays fixed without nightly or
//! cargo-fuzz. Every file is tried, and all that panic are listed by name.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use wayfarer_core::fuzzing;
use wayfarer_tests::vector::{Authorities, BodySpec, ReadBody, Step, Vector, load};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// Runs `entry` on every file of `target`'s corpus; fails listing each file that panicked.
fn replay(target: &str, entry: fn(&[u8])) {
    let dir = corpus_dir(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("corpus directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "the corpus {} has no files",
        dir.display()
    );

    let mut failures = Vec::new();
    for path in &files {
        let input =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| entry(&input))) {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(non-string panic)");
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            failures.push(format!("{target}/{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn call() {
    replay("call", fuzzing::call);
}

#[test]
fn response_head() {
    replay("response_head", fuzzing::response_head);
}

/// The head scanner against httparse, over the response heads' corpus.
#[test]
fn head_syntax() {
    replay("response_head", fuzzing::head_syntax);
}

#[test]
fn chunked_decoder() {
    replay("chunked_decoder", fuzzing::chunked);
}

#[test]
fn cache_control() {
    replay("cache_control", fuzzing::cache_control);
}

#[test]
fn cache_entry() {
    replay("cache_entry", fuzzing::cache_entry);
}

#[test]
fn location() {
    replay("location", fuzzing::location);
}

#[test]
fn content_type() {
    replay("content_type", fuzzing::content_type);
}

#[test]
fn gzip() {
    replay("gzip", fuzzing::gzip);
}

#[test]
fn set_cookie() {
    replay("set_cookie", fuzzing::set_cookie);
}

#[test]
fn cookie_date() {
    replay("cookie_date", fuzzing::cookie_date);
}

#[test]
fn netscape_cookie_file() {
    replay("netscape_cookie_file", fuzzing::netscape_file);
}

/// The `call` target's input for a vector: setup bytes that pick what the vector's first call
/// does (method and body, the number of calls, the follow-up settings, the limits, how much of
/// the body is read) on `http://127.0.0.1:8080/`, then, per connection the origins accept (the
/// first origin's, then the second's), every byte sent there, the responses to the second and
/// later requests apart. What the origin does besides sending
/// and reading requests (pauses, resets) is left to the fuzzer.
fn call_seed(vector: &Vector) -> Vec<u8> {
    let mut setup = [0u8; fuzzing::SETUP_BYTES];
    setup[0] = match vector.calls.len() {
        0 | 1 => 0,
        2 => 16,
        _ => 16 | 128,
    };
    let config = &vector.config;
    for (off, bit) in [
        (config.follow_redirects, 1),
        (config.retry_on_connection_failure, 4),
        (config.follow_ssl_redirects, 8),
    ] {
        if off == Some(false) {
            setup[0] |= bit;
        }
    }
    // Each limit byte picks a value as `transcript` documents; the nearest is taken.
    if let Some(max) = config.max_head_bytes {
        let choices: [usize; 7] = [64, 100, 256, 1024, 4096, 16384, 65536];
        let i = (0..choices.len())
            .min_by_key(|&i| choices[i].abs_diff(max))
            .unwrap_or(0);
        setup[7] = if i == 0 { 7 } else { i as u8 };
    }
    let modulo = |value: Option<usize>, m: usize| value.map(|v| (v % m).clamp(1, 255) as u8);
    setup[8] = modulo(config.max_headers, 40).unwrap_or(0);
    setup[9] = modulo(config.max_interim_responses, 20).unwrap_or(0);
    setup[10] = modulo(config.max_chunk_extension_bytes, 64).unwrap_or(0);
    setup[11] = config
        .max_trailer_bytes
        .map_or(0, |v| (v / 8).clamp(1, 255) as u8);
    if let Some(call) = vector.calls.first() {
        let expect = call
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("expect"));
        setup[15] = match (call.method.as_str(), &call.body) {
            ("HEAD", _) => 1,
            ("PUT", _) => 3,
            ("DELETE", _) => 7,
            ("POST", _) if expect => 8,
            ("POST", BodySpec::Stream { len: None, .. }) => 4,
            ("POST", BodySpec::Stream { len: Some(_), .. }) => 5,
            ("POST", _) => 2,
            _ => 0,
        };
        setup[19] = match call.read_body {
            ReadBody::All => 0,
            ReadBody::None => 1,
            ReadBody::Bytes(n) => (((n / 97).min(127) as u8) << 1) | 1,
        };
    }
    setup[16] = 1;
    let authorities = Authorities {
        first: "127.0.0.1:8080".into(),
        second: vector
            .origin2
            .as_ref()
            .map(|_| format!("{}:8081", Authorities::SECOND_HOST)),
    };
    // Per connection: what it sends, and whether it read a request yet. The call target serves
    // connections in the order the call opens them, whatever their address: the first origin's
    // come first, as when the call is redirected from the first origin to the second.
    let mut conns: Vec<(Vec<u8>, bool)> = Vec::new();
    for step in vector.scripts().iter().flatten() {
        match (step, conns.last_mut()) {
            (Step::Accept, _) => conns.push((Vec::new(), false)),
            (Step::Send(bytes), Some((sent, _))) => {
                sent.extend(authorities.expand(bytes));
            }
            (Step::ReadRequest | Step::ReadHead, Some((sent, read_one))) => {
                if *read_one {
                    sent.extend_from_slice(fuzzing::RESPONSE_SEPARATOR);
                }
                *read_one = true;
            }
            _ => {}
        }
    }
    let mut seed = setup.to_vec();
    for (sent, _) in conns {
        seed.extend_from_slice(fuzzing::CONN_SEPARATOR);
        seed.extend(sent);
    }
    seed
}

/// Every vector, by its corpus name (`vec-<group>-<name>`).
fn vectors() -> Vec<(String, Vector)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut found = Vec::new();
    for group in std::fs::read_dir(&root).expect("tests/vectors") {
        let group = group.expect("a vector group").path();
        if !group.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&group).expect("a vector group") {
            let file = file.expect("a vector file").path();
            if file.extension().is_some_and(|e| e == "vec") {
                let rel = file.strip_prefix(&root).expect("under tests/vectors");
                let rel = rel.to_string_lossy().replace('\\', "/");
                let name = format!("vec-{}", rel.trim_end_matches(".vec").replace('/', "-"));
                found.push((name, load(&rel)));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// The `vec-*` seeds of the `call` corpus are what [`call_seed`] makes of today's vectors, so
/// a vector that changes shows up here. With `WAYFARER_WRITE_CALL_SEEDS=<dir>` the seeds of
/// every vector are written to that directory (to seed the corpus again).
#[test]
fn call_seeds_are_the_vectors_payloads() {
    let vectors = vectors();
    assert!(vectors.len() > 50, "only {} vectors found", vectors.len());
    if let Some(dir) = std::env::var_os("WAYFARER_WRITE_CALL_SEEDS") {
        for (name, vector) in &vectors {
            std::fs::write(Path::new(&dir).join(name), call_seed(vector)).expect("write a seed");
        }
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(corpus_dir("call")).expect("the call corpus") {
        let path = entry.expect("a corpus file").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !name.starts_with("vec-") {
            continue;
        }
        let vector = vectors
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} has no vector"));
        let seed = std::fs::read(&path).expect("a seed");
        assert!(
            seed == call_seed(&vector.1),
            "{name} is not what the vector sends today"
        );
        checked += 1;
    }
    assert!(checked > 0, "no vector seeds in the call corpus");
}
