//! The pairs the scoring pass defers under `household_veto = "auto"`: pairs that look like two
//! members of one household are refused or weighed only once every candidate pair has shown
//! whether the data holds households ([`households_evident`](super::score::households_evident)).

use super::quality::Tally;
use super::records::Records;
use super::train::{Model, Pattern};

/// Deferred pairs: those that could link or enter the review sample are held; those far under
/// the line are only counted, with their summed probability. Pairs sharing a home and nothing
/// else are millions in a county (2 M records held 370 MiB of them).
#[derive(Debug, Default)]
pub(super) struct Members {
    held: Vec<(u32, u32, f64, Pattern)>,
    far_under: u64,
    far_under_probability: f64,
}

impl Members {
    /// Defers the pair `(a, b)` of weight `w` and levels `p`.
    pub(super) fn defer(&mut self, pair: (u32, u32, f64, Pattern), tally: &Tally, model: &Model) {
        if tally.only_missed(pair.2) {
            self.far_under += 1;
            self.far_under_probability += model.probability(pair.2);
        } else {
            self.held.push(pair);
        }
    }

    /// Settles the deferred pairs once households are known: refused where `veto`, else weighed
    /// as any pair is (those clearing the line added to `links`). Returns how many were refused.
    pub(super) fn settle(
        self,
        veto: bool,
        recs: &Records,
        model: &Model,
        tally: &mut Tally,
        links: &mut Vec<(f64, u32, u32)>,
    ) -> u64 {
        if veto {
            return self.held.len() as u64 + self.far_under;
        }
        tally.missed(self.far_under_probability);
        for (a, b, w, p) in self.held {
            tally.scored(recs, a, b, w, model.probability(w), p);
            if w >= tally.least() {
                links.push((w, a, b));
            }
        }
        0
    }
}
