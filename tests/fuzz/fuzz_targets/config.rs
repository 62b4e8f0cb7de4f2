//! Configuration text through `Settings::parse`, as `Settings::load` reads `tellonce.toml`.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tellonce_pipeline::config::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Settings::parse(text, Path::new("/srv/tellonce"));
});
