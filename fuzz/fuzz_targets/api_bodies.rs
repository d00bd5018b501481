#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| zkpool_types::fuzzing::api_bodies(data));
