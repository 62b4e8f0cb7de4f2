//! Feed definitions (`[feeds] dir`): a reviewed TOML file from a deployment, checked as `run` and
//! `feeds lint` do; a clean one is registered beside the built-in feeds and its staging columns
//! derived, as every stage would.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tellonce_schemas::definition;
use tellonce_schemas::registry::Registry;

fuzz_target!(|data: &[u8]| {
    match definition::parse(Path::new("fuzz.toml"), data) {
        Ok(loaded) => {
            let _ = tellonce_schemas::staging::columns(loaded.schema);
            let _ = Registry::with_deployment(std::slice::from_ref(&loaded));
            for c in loaded.schema.columns {
                let _ = loaded.schema.on_invalid(c);
            }
        }
        Err(problems) => {
            for p in problems {
                let _ = p.to_string();
            }
        }
    }
});
