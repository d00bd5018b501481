#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| zkpool_ledger::fuzzing::quote_json(data));
