//! Arbitrary text as a configuration file: a fatal error or a config, never
//! a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    // `include` would read files from the fuzzing machine.
    if text.to_ascii_lowercase().contains("include") {
        return;
    }
    let _ = ferrokv_server::config::load(None, Some(text), "");
});
