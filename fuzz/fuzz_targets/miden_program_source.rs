#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| zkpool_miden::fuzzing::program_source(data));
