//! Agreement text through load and lint (`load_str`, as `load_dir` does per file), then standing,
//! explain and diff on whatever loaded.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tellonce_governance::agreement;

/// 2026-01-01, days since 1970-01-01.
const ON: i32 = 20_454;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = agreement::load_str(Path::new("agreements/fuzz.toml"), text, ON);
    for p in &loaded.problems {
        let _ = p.to_string();
    }
    let agreements = loaded.agreements.clone();
    let _ = agreement::diff_sets(&agreements, &agreements);
    let _ = agreement::diff_sets(&[], &agreements);
    let set = loaded.into_set();
    for feed in tellonce_schemas::feed::names() {
        let _ = set.standing(feed, ON);
        let _ = agreement::explain(&set, feed, None, ON);
    }
});
