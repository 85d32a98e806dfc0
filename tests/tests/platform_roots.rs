//! The platform's roots, loaded by each runtime's `platform_root_certificates()`.
//!
//! Which store the platform has is the machine's business, so the test points the loader at one
//! of its own: `rustls-native-certs` reads only `SSL_CERT_FILE` when it is set. Environment
//! variables are process-wide (and setting them in a running process is `unsafe`), so this test
//! has its own `main` (no libtest harness) and runs itself as a child process with the variable
//! set, once per runtime and store: the parent starts the TLS origin and checks what each child
//! printed. Asked to `--list` its tests (as cargo-nextest does), it names itself as one.

use std::process::Command;

use wayfarer_core::Config;
use wayfarer_tests::certs::{Leaf, SelfSigned, TestPki};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::run::Runtime;

/// Set in a child: the runtime to fetch with.
const CHILD: &str = "WAYFARER_PLATFORM_ROOTS_RUNTIME";
/// Set in a child: the URL to fetch.
const URL: &str = "WAYFARER_PLATFORM_ROOTS_URL";

fn main() {
    // Test runners that list tests first (cargo-nextest) ask with `--list`: this binary is
    // one test, and none of it is ignored. Run, it ignores the arguments it is given.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("platform_roots: test");
        }
        return;
    }
    match std::env::var(CHILD) {
        Ok(runtime) => child(&runtime),
        Err(_) => parent(),
    }
}

/// Loads the platform's roots with `runtime`'s loader, trusts only them, fetches the URL and
/// prints `status 200`, `error <kind>: <message>`, or `load error: <message>`.
fn child(runtime: &str) {
    let (roots, runtime) = match runtime {
        "blocking" => (
            wayfarer_blocking::platform_root_certificates(),
            Runtime::Blocking,
        ),
        "tokio" => (wayfarer_tokio::platform_root_certificates(), Runtime::Tokio),
        _ => (wayfarer_smol::platform_root_certificates(), Runtime::Smol),
    };
    let roots = match roots {
        Ok(roots) => roots,
        Err(e) => return println!("load error: {e}"),
    };
    let config = Config::builder()
        .tls_built_in_roots(false)
        .add_root_certificates(roots)
        .build()
        .expect("config");
    let url = std::env::var(URL).expect("the parent sets the URL");
    match &runtime.fetch_on_shared_pool(&[config], &[(0, url)])[0] {
        Ok(response) => println!("status {}", response.status().as_u16()),
        Err(e) => println!("error {}: {e}", e.kind()),
    }
}

/// Runs a child for `runtime` with `SSL_CERT_FILE` set to `store`; returns what it printed.
fn run_child(runtime: &str, store: &std::path::Path, url: &str) -> String {
    let exe = std::env::current_exe().expect("the test's own path");
    let output = Command::new(exe)
        .env(CHILD, runtime)
        .env(URL, url)
        .env("SSL_CERT_FILE", store)
        .env_remove("SSL_CERT_DIR")
        .output()
        .expect("run the child");
    assert!(
        output.status.success(),
        "{runtime}: child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn parent() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let trusted = dir.path().join("trusted.pem");
    std::fs::write(&trusted, pki.ca_pem()).expect("write the store");
    let other = dir.path().join("other.pem");
    // A root of another name: the server's issuer is not in this store at all.
    std::fs::write(&other, SelfSigned::generate().pem()).expect("write the store");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").expect("write the store");

    let mut checked = 0;
    for runtime in ["blocking", "tokio", "smol"] {
        let origin = Origin::builder()
            .tls(pki.server_config(Leaf::Valid))
            .start();
        origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        let url = format!("https://localhost:{}/", origin.addr().port());

        // A store holding the test CA: trusted.
        assert_eq!(
            run_child(runtime, &trusted, &url),
            "status 200",
            "{runtime}"
        );
        // A store without it: the server's certificate has an unknown issuer.
        let out = run_child(runtime, &other, &url);
        assert!(
            out.starts_with("error tls:") && out.contains("unknown (untrusted) authority"),
            "{runtime}: {out}"
        );
        // An empty store: nothing to trust is an error when loading, not a client that fails
        // every https call.
        let out = run_child(runtime, &empty, &url);
        assert!(
            out.starts_with("load error:") && out.contains("no usable root certificate"),
            "{runtime}: {out}"
        );
        checked += 1;
    }
    println!("platform roots: {checked} runtimes checked");
}
