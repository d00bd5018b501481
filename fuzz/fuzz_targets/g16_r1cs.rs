#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zkpool_groth16::fuzzing::r1cs(data));
