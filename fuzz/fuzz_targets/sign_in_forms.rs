#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzz::sign_in_forms(data));
