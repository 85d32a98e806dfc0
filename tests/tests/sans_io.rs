//! The core stays sans-IO: no async runtime or reactor in its dependency tree, and no clock,
//! sleep, thread, socket or file in its source.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn core_dependency_tree_has_no_runtime_or_reactor() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "-p",
            "wayfarer-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"rustls") && crates.contains(&"httparse"),
        "unexpected tree:\n{tree}"
    );
    let banned = [
        "tokio",
        "smol",
        "async-std",
        "async-io",
        "async-net",
        "async-executor",
        "mio",
        "polling",
        "futures-executor",
    ];
    let found: Vec<&&str> = crates.iter().filter(|c| banned.contains(c)).collect();
    assert!(
        found.is_empty(),
        "wayfarer-core depends on {found:?}:\n{tree}"
    );
}

#[test]
fn core_source_reads_no_clock_and_touches_no_socket_thread_or_file() {
    let banned = [
        "std::net::",
        "TcpStream",
        "UdpSocket",
        "Instant::now(",
        "SystemTime::now(",
        "std::thread",
        "thread::spawn",
        "thread::sleep",
        "std::fs",
        "tokio",
        "async_io",
    ];
    let mut hits = Vec::new();
    let mut files = 0;
    let mut stack = vec![workspace_root().join("core/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read core/src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&path).expect("read source");
                for (i, line) in text.lines().enumerate() {
                    let code = line.trim_start();
                    if code.starts_with("//") {
                        continue;
                    }
                    if let Some(b) = banned.iter().find(|b| code.contains(*b)) {
                        hits.push(format!("{}:{}: {b}: {line}", path.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(files > 10, "scanned only {files} files");
    assert!(
        hits.is_empty(),
        "the core must stay sans-IO:\n{}",
        hits.join("\n")
    );
}
