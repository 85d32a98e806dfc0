//! Every vector, replayed against `wayfarer_core` directly in a deterministic simulation with
//! virtual time, under every fragmentation variant (whole, byte by byte, coalesced, 3-byte
//! reads with 5-byte writes).

use wayfarer_tests::sim;
use wayfarer_tests::vector::{self, Variant};

include!(concat!(env!("OUT_DIR"), "/vectors_core.rs"));

fn run(path: &str, variant: Variant) {
    let vector = vector::load(path);
    let (outcomes, records) = sim::replay(&vector, variant);
    if let Err(report) = vector::check(&vector, &outcomes, &records, &sim::authorities(&vector)) {
        panic!("{path} ({}):\n{report}", variant.name());
    }
}
