//! Every vector, replayed over loopback against the tokio client (current-thread runtime).

use wayfarer_tests::run;
use wayfarer_tests::vector::Variant;

include!(concat!(env!("OUT_DIR"), "/vectors_socket.rs"));

fn run(path: &str, variant: Variant) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run::replay_async::<wayfarer_tokio::Tokio>(path, variant));
}
