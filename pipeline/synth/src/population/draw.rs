//! Random draws the household and event builders share: weighted codes, geometric counts, days,
//! amounts, and an offence's category and gravity.

use tellonce_schemas::identifiers::dates::days_from_civil;

use crate::rng::Rng;

/// Weighted choice among codes.
pub(super) fn code(rng: &mut Rng, table: &[(&'static str, u32)]) -> &'static str {
    let weights: Vec<u32> = table.iter().map(|t| t.1).collect();
    table[rng.weighted(&weights)].0
}

/// A geometric count: 1, then each further one with probability `p`, up to `max`.
pub(super) fn count(rng: &mut Rng, p: f64, max: u32) -> u32 {
    let mut n = 1;
    while n < max && rng.chance(p) {
        n += 1;
    }
    n
}

/// Sorted uniform days in `[lo, hi]`, as many as [`count`] draws.
pub(super) fn days(rng: &mut Rng, p_more: f64, max: u32, lo: i32, hi: i32) -> Vec<i32> {
    let n = count(rng, p_more, max);
    let mut v: Vec<i32> = (0..n).map(|_| rng.day(lo, hi)).collect();
    v.sort_unstable();
    v
}

/// A random day in a calendar year.
pub(super) fn day_in_year(rng: &mut Rng, year: i32) -> i32 {
    rng.day(days_from_civil(year, 1, 1), days_from_civil(year, 12, 31))
}

/// An amount in pence, whole pounds or pence as asked, in `lo..=hi` pounds.
pub(super) fn pounds(rng: &mut Rng, lo: i64, hi: i64, whole: bool) -> i64 {
    if whole { rng.range(lo, hi) * 100 } else { rng.range(lo * 100, hi * 100) }
}

/// The category of an offence.
pub(super) fn offence_category(rng: &mut Rng) -> &'static str {
    code(
        rng,
        &[
            ("VIOLENCE", 30),
            ("THEFT", 18),
            ("CRIMINAL_DAMAGE", 10),
            ("DRUGS", 12),
            ("ROBBERY", 5),
            ("BURGLARY", 5),
            ("MOTORING", 8),
            ("SEXUAL", 2),
            ("OTHER", 10),
        ],
    )
}

/// The gravity score (1-4) of an offence in `category`.
pub(super) fn gravity(rng: &mut Rng, category: &str) -> u8 {
    let (lo, hi) = match category {
        "VIOLENCE" => (2, 3),
        "ROBBERY" | "SEXUAL" => (3, 4),
        "BURGLARY" => (3, 3),
        "DRUGS" => (1, 2),
        _ => (1, 2),
    };
    rng.range(lo, hi) as u8
}
