#![no_main]

#[path = "../../tests/common/forge.rs"]
mod forge;
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::load_encrypted(data));
