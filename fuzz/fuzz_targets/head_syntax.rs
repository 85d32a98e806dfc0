#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wayfarer_core::fuzzing::head_syntax(data));
