//! The substance misuse treatment services: a feed that is not built in but defined in a file
//! (`schemas/feeds/examples/substance_misuse.toml`). Journeys are drawn from the families' need
//! propensity, domestic abuse and offending, with the feed's own random stream, so that adding
//! this feed changes nothing in the others.

use super::SynthError;
use super::emit::Emitter;
use super::feeds::{code, order};
use super::population::{Family, Population, aged_between, end, start};

/// Column handles of the feed's own columns.
struct Columns {
    service: usize,
    referral: usize,
    source: usize,
    substance_1: usize,
    substance_2: usize,
    injecting: usize,
    parental: usize,
    started: usize,
    exit_date: usize,
    exit_reason: usize,
}

/// Main substances of adults in treatment, weighted roughly as national treatment statistics.
const ADULT_SUBSTANCES: &[(&str, u32)] = &[
    ("ALCOHOL", 40),
    ("OPIATES", 20),
    ("CRACK", 8),
    ("COCAINE", 12),
    ("CANNABIS", 12),
    ("BENZODIAZEPINES", 3),
    ("AMPHETAMINES", 3),
    ("OTHER", 2),
];
/// Main substances of young people in treatment: mostly cannabis, then alcohol.
const YOUNG_SUBSTANCES: &[(&str, u32)] = &[("CANNABIS", 70), ("ALCOHOL", 15), ("COCAINE", 6), ("NPS", 4), ("OTHER", 5)];

/// One treatment journey to write.
struct Journey {
    person: u32,
    young: bool,
    /// Days the person may be referred between.
    window: (i32, i32),
    /// The person lives with children of their own.
    with_children: bool,
    risk: f64,
}

/// Writes the feed's rows.
pub(crate) fn write(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let cols = Columns {
        service: em.col("service")?,
        referral: em.col("referral_date")?,
        source: em.col("referral_source")?,
        substance_1: em.col("substance_1")?,
        substance_2: em.col("substance_2")?,
        injecting: em.col("injecting_status")?,
        parental: em.col("parental_status")?,
        started: em.col("treatment_start_date")?,
        exit_date: em.col("exit_date")?,
        exit_reason: em.col("exit_reason")?,
    };
    let pop = em.pop;
    for fi in order(em) {
        for j in journeys(em, pop, &pop.families[fi as usize]) {
            journey(em, &cols, &j)?;
        }
    }
    Ok(())
}

/// Who in the family is referred in the window: parents more often where the family is at risk
/// or has domestic abuse; children aged 12 to 17 more often where they offend.
fn journeys(em: &mut Emitter<'_>, pop: &Population, f: &Family) -> Vec<Journey> {
    let da = if f.da.is_empty() { 0.0 } else { 0.08 };
    let mut out = Vec::new();
    let has_children = pop.children(f).next().is_some();
    for p in pop.parents(f) {
        if em.rng.chance(0.01 + 0.10 * f.risk + da) {
            let window = (start(), end());
            out.push(Journey { person: p, young: false, window, with_children: has_children, risk: f.risk });
        }
    }
    for k in pop.children(f) {
        let Some(window) = aged_between(pop.person(k).dob, 12, 17, start(), end()) else { continue };
        let offends = if f.offences.iter().any(|o| o.person == k) { 0.12 } else { 0.0 };
        if em.rng.chance(0.004 + 0.05 * f.risk + offends) {
            out.push(Journey { person: k, young: true, window, with_children: false, risk: f.risk });
        }
    }
    out
}

fn journey(em: &mut Emitter<'_>, cols: &Columns, j: &Journey) -> Result<(), SynthError> {
    let last = end();
    let referral = em.rng.day(j.window.0, j.window.1);
    em.row.clear();
    em.row.set(cols.service, if j.young { "YOUNG_PEOPLE" } else { "ADULT" });
    em.row.date(cols.referral, referral);
    let source = if j.young {
        code(
            &mut em.rng,
            &[
                ("EDUCATION", 25),
                ("SOCIAL_CARE", 15),
                ("CRIMINAL_JUSTICE", 20),
                ("EARLY_HELP", 15),
                ("SELF", 10),
                ("GP", 5),
                ("OTHER", 10),
            ],
        )
    } else {
        code(
            &mut em.rng,
            &[
                ("SELF", 35),
                ("GP", 15),
                ("SOCIAL_CARE", 10),
                ("EARLY_HELP", 5),
                ("CRIMINAL_JUSTICE", 15),
                ("HOSPITAL", 5),
                ("OTHER", 5),
            ],
        )
    };
    em.row.set(cols.source, source);
    let table = if j.young { YOUNG_SUBSTANCES } else { ADULT_SUBSTANCES };
    let main = code(&mut em.rng, table);
    em.row.set(cols.substance_1, main);
    if em.rng.chance(0.4) {
        let second = code(&mut em.rng, table);
        if second != main {
            em.row.set(cols.substance_2, second);
        }
    }
    let injecting = if j.young {
        code(&mut em.rng, &[("NEVER", 97), ("DECLINED", 3)])
    } else {
        code(&mut em.rng, &[("NEVER", 75), ("PREVIOUSLY", 12), ("CURRENTLY", 6), ("DECLINED", 7)])
    };
    em.row.set(cols.injecting, injecting);
    let parental = match (j.young, j.with_children) {
        (true, _) => code(&mut em.rng, &[("NO_CHILDREN", 95), ("NOT_STATED", 5)]),
        (false, true) => code(&mut em.rng, &[("LIVES_WITH_CHILDREN", 85), ("NOT_STATED", 15)]),
        (false, false) => code(&mut em.rng, &[("CHILDREN_ELSEWHERE", 40), ("NO_CHILDREN", 45), ("NOT_STATED", 15)]),
    };
    em.row.set(cols.parental, parental);
    let started = referral + em.rng.day(5, 42);
    let exit = if started <= last && em.rng.chance(0.85) {
        em.row.date(cols.started, started);
        let exit = started + em.rng.day(60, 360);
        let completed = (45.0 * (1.0 - 0.5 * j.risk)).max(1.0) as u32;
        let reasons = [
            ("COMPLETED_FREE", completed),
            ("COMPLETED_OCCASIONAL_USE", 10),
            ("DROPPED_OUT", 25),
            ("TRANSFERRED", 8),
            ("DECLINED", 5),
            ("CUSTODY", 3),
            ("OTHER", 4),
        ];
        (exit <= last && em.rng.chance(0.7)).then(|| (exit, code(&mut em.rng, &reasons)))
    } else {
        let exit = referral + em.rng.day(30, 90);
        let reason = code(&mut em.rng, &[("DECLINED", 50), ("DROPPED_OUT", 50)]);
        (exit <= last && em.rng.chance(0.5)).then_some((exit, reason))
    };
    if let Some((date, reason)) = exit {
        em.row.date(cols.exit_date, date);
        em.row.set(cols.exit_reason, reason);
    }
    em.emit(j.person, referral)
}
