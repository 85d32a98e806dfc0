//! Every vector, replayed over loopback against the smol client on smol's executor.

use wayfarer_tests::run;
use wayfarer_tests::vector::Variant;

include!(concat!(env!("OUT_DIR"), "/vectors_socket.rs"));

fn run(path: &str, variant: Variant) {
    smol::block_on(run::replay_async::<wayfarer_smol::Smol>(path, variant));
}
