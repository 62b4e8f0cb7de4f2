//! The run's progress drawn as a bar on stderr, when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tellonce_pipeline::progress::Progress;

/// A progress bar over the bytes of a run's inputs.
pub(crate) struct Bar(ProgressBar);

impl Bar {
    /// A bar if `wanted` and stderr is a terminal; otherwise one that draws nothing.
    pub(crate) fn new(wanted: bool) -> Bar {
        let bar = if wanted && std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:20} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar(bar)
    }
}

impl Progress for Bar {
    fn started(&self, total_bytes: u64) {
        self.0.set_length(total_bytes);
    }

    fn input(&self, feed: &str) {
        self.0.set_message(feed.to_owned());
    }

    fn advanced(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finished(&self) {
        self.0.finish_and_clear();
    }
}
