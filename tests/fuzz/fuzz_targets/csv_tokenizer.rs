//! CSV files through `FileSource` (the tokenizer, header matching and row checks), as `run` reads
//! a partner file.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use tellonce_connectors::file_source::{FileFormat, FileSource};

fuzz_target!(|data: &[u8]| {
    let Some(c) = common::case(data) else { return };
    let Some(path) = common::scratch_file(&c.body, "csv") else { return };
    let Ok(source) = FileSource::open(&path, FileFormat::Csv, c.feed, c.opts) else { return };
    common::drain(source, c.feed, c.opts);
});
