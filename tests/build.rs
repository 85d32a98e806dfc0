//! Generates one `#[test]` per vector file and fragmentation variant, so `cargo test chunked` runs
//! every chunked vector and a failure names the vector and variant.
//!
//! Writes into OUT_DIR:
//! - `vectors_core.rs`: every variant in `Variant::ALL`, for the in-memory simulation;
//! - `vectors_socket.rs`: every variant in `Variant::SOCKET`, for the runtimes over real sockets;
//! - `vectors_seen.rs`: every vector path with whether this script took it as whole-only, so
//!   `tests/vector_files.rs` can check the script read each vector as the parser does;
//! - `vectors_virtual_clock.rs`: the vector paths with `clock virtual`, checked the same way.
//!
//! A vector with `fragment whole` in its `[config]` gets only the `whole` variant; one with
//! `clock virtual` moves time, so only the simulation replays it (no socket tests). Each test
//! calls `run(path, variant)`, which the including test file defines.

use std::fmt::Write as _;
use std::path::Path;

/// Must match `Variant::ALL` and `Variant::SOCKET` in `src/vector/model.rs` (a build script cannot
/// use its own crate); `tests/vector_files.rs` checks that they agree.
const ALL: [(&str, &str); 4] = [
    ("whole", "Whole"),
    ("bytewise", "Bytewise"),
    ("coalesced", "Coalesced"),
    ("split3", "Split3"),
];
const SOCKET: [(&str, &str); 2] = [("whole", "Whole"), ("bytewise", "Bytewise")];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, "", &mut files);
    files.sort();

    let mut core = String::new();
    let mut socket = String::new();
    let mut seen = String::from("&[\n");
    let mut virtual_clock = String::from("&[\n");
    let mut names = std::collections::BTreeMap::new();
    for rel in &files {
        let path = root.join(rel);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let base = ident(rel.strip_suffix(".vec").unwrap_or(rel));
        if let Some(other) = names.insert(base.clone(), rel.clone()) {
            panic!("vectors {other} and {rel} both become test name {base}; rename one");
        }
        let whole_only = whole_only(&text);
        writeln!(seen, "    ({rel:?}, {whole_only}),").expect("write to a String");
        let core_only = has_virtual_clock(&text);
        if core_only {
            writeln!(virtual_clock, "    {rel:?},").expect("write to a String");
        }
        let places = [(&mut core, &ALL[..]), (&mut socket, &SOCKET[..])];
        for (out, variants) in places.into_iter().take(if core_only { 1 } else { 2 }) {
            for (name, variant) in variants {
                if whole_only && *name != "whole" {
                    continue;
                }
                writeln!(
                    out,
                    "#[test]\n#[allow(non_snake_case)]\nfn {base}__{name}() {{ run({rel:?}, wayfarer_tests::vector::Variant::{variant}) }}\n"
                )
                .expect("write to a String");
            }
        }
    }

    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("vectors_core.rs"), core)
        .expect("write vectors_core.rs");
    std::fs::write(Path::new(&out_dir).join("vectors_socket.rs"), socket)
        .expect("write vectors_socket.rs");
    seen.push(']');
    std::fs::write(Path::new(&out_dir).join("vectors_seen.rs"), seen)
        .expect("write vectors_seen.rs");
    virtual_clock.push(']');
    std::fs::write(
        Path::new(&out_dir).join("vectors_virtual_clock.rs"),
        virtual_clock,
    )
    .expect("write vectors_virtual_clock.rs");
}

/// Collects `.vec` files under `dir` as `/`-separated paths relative to the vectors root.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, &rel, out);
        } else if name.ends_with(".vec") {
            out.push(rel);
        }
    }
}

/// `group/name` → `group__name`, with anything that cannot be in an identifier replaced by `_`.
fn ident(rel: &str) -> String {
    let parts: Vec<String> = rel
        .split('/')
        .map(|part| {
            part.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect()
        })
        .collect();
    let joined = parts.join("__");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("v_{joined}")
    } else {
        joined
    }
}

/// Whether the vector's `[config]` section has a `fragment whole` line.
fn whole_only(text: &str) -> bool {
    let mut in_config = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_config = line.trim_start_matches('[').trim_end_matches(']').trim() == "config";
        } else if in_config && line.split_whitespace().eq(["fragment", "whole"]) {
            return true;
        }
    }
    false
}

/// Whether the vector's `[config]` section has a `clock virtual` line.
fn has_virtual_clock(text: &str) -> bool {
    let mut in_config = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_config = line.trim_start_matches('[').trim_end_matches(']').trim() == "config";
        } else if in_config && line.split_whitespace().eq(["clock", "virtual"]) {
            return true;
        }
    }
    false
}
