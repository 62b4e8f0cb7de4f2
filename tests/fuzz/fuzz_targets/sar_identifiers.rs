//! A subject access request's identifiers (`name=value` lines) through `SubjectTokens::parse`,
//! as `subject-access` reads them, under a fixed test key.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tellonce_pipeline::subject::SubjectTokens;
use tellonce_governance::{KeyRing, Purpose};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let tokeniser = KeyRing::from_master([7u8; 32]).tokeniser(Purpose::Linkage);
    if let Err(e) = SubjectTokens::parse(text, &tokeniser) {
        let _ = e.to_string();
    }
});
