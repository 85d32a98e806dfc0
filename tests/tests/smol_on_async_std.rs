//! Every vector, replayed over loopback against the smol client on async-std's executor: the
//! client brings its own reactor (async-io), so it does not care which executor polls it.

use wayfarer_tests::run;
use wayfarer_tests::vector::Variant;

include!(concat!(env!("OUT_DIR"), "/vectors_socket.rs"));

fn run(path: &str, variant: Variant) {
    async_std::task::block_on(run::replay_async::<wayfarer_smol::Smol>(path, variant));
}
