//! JSON Lines files through `FileSource`, and the same lines as Kafka messages through
//! `MessageBatcher`, as `run` and `stream` read them.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use tellonce_connectors::file_source::{FileFormat, FileSource, MessageBatcher};

fuzz_target!(|data: &[u8]| {
    let Some(c) = common::case(data) else { return };
    let body = c.body.clone();
    if let Some(path) = common::scratch_file(&c.body, "jsonl")
        && let Ok(source) = FileSource::open(&path, FileFormat::JsonLines, c.feed, c.opts)
    {
        common::drain(source, c.feed, c.opts);
    }

    let mut batcher = MessageBatcher::new(c.feed, "kafka:fuzz/0".to_owned(), c.opts.batch_rows, c.opts.max_line_bytes);
    for (offset, message) in (0u64..).zip(body.split(|&b| b == b'\n')) {
        batcher.push(offset, Some(message));
        if batcher.is_full()
            && let Ok(Some(raw)) = batcher.take()
        {
            common::check(&raw, c.feed, c.opts);
        }
    }
    if let Ok(Some(raw)) = batcher.take() {
        common::check(&raw, c.feed, c.opts);
    }
    let _ = batcher.unknown_columns();
});
