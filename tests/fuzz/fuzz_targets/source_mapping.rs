//! Source mappings (`[[sources]] mapping`): a reviewed TOML file from a deployment, parsed and
//! linted against a feed as `run` and `sources check` do, then asked what each heading maps to;
//! and partner date formats with a value to read.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tellonce_connectors::mapping::Mapping;
use tellonce_connectors::mapping::dates::DateFormat;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, body)) = data.split_first() else { return };
    let names: Vec<&str> = tellonce_schemas::feed::names().collect();
    let Some(feed) = names.get(usize::from(ctl) % names.len().max(1)).and_then(|n| tellonce_schemas::feed::latest(n))
    else {
        return;
    };
    if let Ok(mapping) = Mapping::parse(Path::new("fuzz.toml"), body, feed) {
        for column in feed.columns {
            let _ = mapping.resolve(column.name);
        }
        for i in 0..feed.columns.len() {
            let _ = mapping.headings_of(i);
        }
    }
    // The first line as a date format, the second as a value written in it.
    if let Ok(text) = std::str::from_utf8(body) {
        let mut lines = text.lines();
        if let (Some(format), Some(value)) = (lines.next(), lines.next())
            && let Ok(format) = DateFormat::parse(format)
        {
            let _ = format.parse_date(value);
        }
    }
});
