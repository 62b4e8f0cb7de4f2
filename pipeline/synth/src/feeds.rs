//! What each partner records about the population: one function per feed, turning the
//! population's events into rows.

use tellonce_schemas::identifiers::dates::{civil_from_days, days_from_civil};

use super::SynthError;
use super::emit::Emitter;
use super::population::{Family, Member, age_on, end, flags, start};
use super::rng::Rng;

/// Writes the rows of the feed `em` was opened for.
pub(crate) fn write(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    match em.spec.name {
        "health_visiting" => health_visiting(em),
        "camhs" => camhs(em),
        "police" => police(em),
        "youth_justice" => youth_justice(em),
        "housing" => housing(em),
        "district" => district(em),
        "substance_misuse" => super::substance::write(em),
        _ => education(em),
    }
}

/// The families in the order this source lists them.
pub(crate) fn order(em: &mut Emitter<'_>) -> Vec<u32> {
    let mut order: Vec<u32> = (0..em.pop.families.len() as u32).collect();
    em.rng.shuffle(&mut order);
    order
}

/// A weighted choice among codes.
pub(crate) fn code(rng: &mut Rng, table: &[(&'static str, u32)]) -> &'static str {
    let weights: Vec<u32> = table.iter().map(|t| t.1).collect();
    table[rng.weighted(&weights)].0
}

/// A weight scaled by a probability-like factor, never below 1.
fn w(base: f64, scale: f64) -> u32 {
    (base * scale).max(1.0) as u32
}

/// The health visiting columns filled here (the person's own are filled by the emitter).
struct HvColumns {
    household: usize,
    role: usize,
    date: usize,
    review: usize,
    attended: usize,
    mode: usize,
    /// The five ASQ-3 domains, communication first.
    asq: [usize; 5],
    mood: usize,
    safeguarding: usize,
    onward: usize,
}

impl HvColumns {
    fn new(em: &Emitter<'_>) -> Result<Self, SynthError> {
        Ok(HvColumns {
            household: em.col("household_ref")?,
            role: em.col("role_in_household")?,
            date: em.col("contact_date")?,
            review: em.col("review_type")?,
            attended: em.col("attended")?,
            mode: em.col("contact_mode")?,
            asq: [
                em.col("asq3_communication")?,
                em.col("asq3_gross_motor")?,
                em.col("asq3_fine_motor")?,
                em.col("asq3_problem_solving")?,
                em.col("asq3_personal_social")?,
            ],
            mood: em.col("maternal_mood_concern")?,
            safeguarding: em.col("safeguarding_concern")?,
            onward: em.col("onward_referral")?,
        })
    }
}

/// One mandated review (or extra contact) of a child, as booked.
struct Review<'h> {
    household: &'h str,
    /// Who the contact is recorded against: the child, or the mother for the antenatal visit.
    subject: u32,
    child: u32,
    kind: &'static str,
    /// The child's development is delayed (low ASQ-3 scores at two years).
    delayed: bool,
    risk: f64,
    /// 1.0 when the family has had domestic abuse incidents.
    da: f64,
}

fn health_visiting(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let cols = HvColumns::new(em)?;
    let start = start();
    let pop = em.pop;
    for fi in order(em) {
        let f = &pop.families[fi as usize];
        let hh = em.family_ref("HV", fi);
        let risk = f.risk;
        let da = if f.da.is_empty() { 0.0 } else { 1.0 };
        let mother = pop.parents(f).find(|&p| pop.person(p).sex == "F");
        let mut last_dob = i32::MIN;
        for k in pop.children(f) {
            let dob = pop.person(k).dob;
            if dob + 912 < start {
                continue;
            }
            let twin = dob == last_dob;
            last_dob = dob;
            let delayed = em.rng.chance(0.08 + 0.25 * risk);
            for (kind, date) in hv_contacts(&mut em.rng, dob, risk) {
                let subject = if kind == "ANTENATAL" {
                    // Twins share one pregnancy, so one antenatal visit.
                    match mother {
                        Some(m) if !twin => m,
                        _ => continue,
                    }
                } else {
                    k
                };
                let review = Review { household: &hh, subject, child: k, kind, delayed, risk, da };
                hv_review(em, &cols, &review, date)?;
            }
        }
    }
    Ok(())
}

/// The review types and booked dates for a child born on `dob`: the five mandated reviews, and
/// extra contacts for some families in need.
fn hv_contacts(rng: &mut Rng, dob: i32, risk: f64) -> Vec<(&'static str, i32)> {
    let nbv = if rng.chance(0.85) { rng.day(10, 14) } else { rng.day(15, 30) };
    let reviews = [
        ("ANTENATAL", -rng.day(28, 84)),
        ("NBV", nbv),
        ("6_8WK", rng.day(42, 56)),
        ("12M", rng.day(330, 456)),
        ("2_2_5Y", rng.day(730, 912)),
    ];
    let mut contacts: Vec<(&str, i32)> = reviews.iter().map(|&(t, off)| (t, dob + off)).collect();
    if rng.chance(0.05 + 0.6 * risk) {
        for _ in 0..1 + rng.below(4) {
            contacts.push(("OTHER", dob + rng.day(20, 1400)));
        }
    }
    contacts
}

/// Writes a review booked on `date` if it falls in the window, and its rebookings while it is
/// missed.
fn hv_review(em: &mut Emitter<'_>, cols: &HvColumns, review: &Review<'_>, mut date: i32) -> Result<(), SynthError> {
    let (start, end) = (start(), end());
    let risk = review.risk;
    loop {
        if date < start || date > end {
            break;
        }
        let attended = code(
            &mut em.rng,
            &[("ATTENDED", w(88.0, 1.0 - risk * 0.3)), ("DNA", w(8.0, 1.0 + 2.0 * risk)), ("CANCELLED", 4)],
        );
        em.row.clear();
        em.row.set(cols.household, review.household);
        em.row.set(cols.role, if review.subject == review.child { "CHILD" } else { "PARENT_CARER" });
        em.row.date(cols.date, date);
        em.row.set(cols.review, review.kind);
        em.row.set(cols.attended, attended);
        if attended == "ATTENDED" {
            hv_findings(em, cols, review);
        }
        em.emit(review.subject, date)?;
        // A missed contact is usually rebooked.
        if attended == "ATTENDED" || !em.rng.chance(0.7) {
            break;
        }
        date += em.rng.day(7, 21);
    }
    Ok(())
}

/// Fills what an attended review found: how it was held, ASQ-3 scores at two years, concerns
/// and the onward referral.
fn hv_findings(em: &mut Emitter<'_>, cols: &HvColumns, review: &Review<'_>) {
    let (risk, da) = (review.risk, review.da);
    let mode = code(&mut em.rng, &[("FACE_TO_FACE", 85), ("VIDEO", 5), ("PHONE", 10)]);
    em.row.set(cols.mode, mode);
    let below_comm = review.kind == "2_2_5Y" && asq_scores(em, cols, review.delayed);
    let perinatal = matches!(review.kind, "ANTENATAL" | "NBV" | "6_8WK");
    let mood = perinatal && em.rng.chance(0.06 + 0.25 * risk + 0.1 * da);
    if perinatal {
        em.row.flag(cols.mood, mood);
    }
    let safeguarding = em.rng.chance(0.01 + 0.3 * da + 0.05 * risk);
    em.row.flag(cols.safeguarding, safeguarding);
    let onward = if safeguarding {
        code(&mut em.rng, &[("SOCIAL_CARE", 40), ("EARLY_HELP", 40), ("NONE", 20)])
    } else if mood && em.rng.chance(0.5) {
        "PERINATAL_MH"
    } else if below_comm && em.rng.chance(0.6) {
        "SPEECH_LANGUAGE"
    } else {
        code(&mut em.rng, &[("NONE", w(95.0, 1.0 - risk)), ("EARLY_HELP", w(30.0, risk)), ("OTHER", 2)])
    };
    em.row.set(cols.onward, onward);
}

/// Fills the five ASQ-3 scores of a two-year review: a delayed child scores below the cut-off in
/// one to three adjacent domains. Returns whether communication is below its cut-off.
fn asq_scores(em: &mut Emitter<'_>, cols: &HvColumns, delayed: bool) -> bool {
    // Approximate ASQ-3 cut-offs at 24-30 months, by domain.
    const CUTOFF: [u64; 5] = [25, 38, 35, 29, 31];
    let n_low = if delayed { 1 + em.rng.below(3) } else { 0 };
    let first_low = em.rng.index(5);
    let mut below_comm = false;
    for (d, &col) in cols.asq.iter().enumerate() {
        let low = (d + 5 - first_low) % 5 < n_low as usize;
        let score = if low {
            5 * em.rng.below(CUTOFF[d] / 5)
        } else {
            (60 - 5 * em.rng.weighted(&[30, 25, 20, 12, 8, 5]) as u64).max(CUTOFF[d].div_ceil(5) * 5)
        };
        below_comm |= low && d == 0;
        em.row.int(col, score);
    }
    below_comm
}

fn camhs(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let c_recv = em.col("referral_received_date")?;
    let c_src = em.col("referral_source")?;
    let c_reason = em.col("primary_reason")?;
    let c_prio = em.col("priority")?;
    let c_out = em.col("referral_outcome")?;
    let c_first = em.col("first_contact_date")?;
    let c_att = em.col("contacts_attended")?;
    let c_dna = em.col("dna_count")?;
    let c_dis = em.col("discharge_date")?;
    let c_disr = em.col("discharge_reason")?;
    let pop = em.pop;
    for fi in order(em) {
        for r in &pop.families[fi as usize].camhs {
            em.row.clear();
            em.row.date(c_recv, r.received);
            em.row.set(c_src, r.source);
            em.row.set(c_reason, r.reason);
            em.row.set(c_prio, r.priority);
            em.row.set(c_out, r.outcome);
            if let Some(d) = r.first_contact {
                em.row.date(c_first, d);
            }
            if let Some((a, d)) = r.contacts {
                em.row.int(c_att, u64::from(a));
                em.row.int(c_dna, u64::from(d));
            }
            if let Some((d, reason)) = r.discharge {
                em.row.date(c_dis, d);
                em.row.set(c_disr, reason);
            }
            em.emit(r.child, r.received)?;
        }
    }
    Ok(())
}

/// Column handles of the police feed.
struct PoliceCols {
    occ: usize,
    date: usize,
    kind: usize,
    role: usize,
    dash: usize,
    marac: usize,
    encompass: usize,
    missing_risk: usize,
    hours: usize,
    outcome: usize,
}

fn police(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let c = PoliceCols {
        occ: em.col("occurrence_ref")?,
        date: em.col("incident_date")?,
        kind: em.col("incident_type")?,
        role: em.col("person_role")?,
        dash: em.col("dash_risk")?,
        marac: em.col("marac_referral")?,
        encompass: em.col("encompass_notified")?,
        missing_risk: em.col("missing_risk")?,
        hours: em.col("missing_duration_hours")?,
        outcome: em.col("outcome")?,
    };
    let pop = em.pop;
    let mut serial = 0u64;
    for fi in order(em) {
        let f: &Family = &pop.families[fi as usize];
        for inc in &f.da {
            let occ = next_ref(&mut serial, em, inc.date);
            let marac = inc.risk == "HIGH" || (inc.risk == "MEDIUM" && em.rng.chance(0.1));
            let rows = [(inc.victim, "VICTIM", "NONE"), (inc.suspect, "SUSPECT", inc.suspect_outcome)];
            for (p, role, outcome) in rows {
                police_row(em, &c, &occ, inc.date, "DOMESTIC_ABUSE", role);
                em.row.set(c.dash, inc.risk);
                em.row.flag(c.marac, marac);
                em.row.set(c.outcome, outcome);
                em.emit(p, inc.date)?;
            }
            for k in pop.children(f) {
                let dob = pop.person(k).dob;
                if dob > inc.date {
                    continue;
                }
                let role = if inc.children_present { "CHILD_PRESENT" } else { "CHILD_IN_HOUSEHOLD" };
                police_row(em, &c, &occ, inc.date, "DOMESTIC_ABUSE", role);
                em.row.set(c.dash, inc.risk);
                let age = age_on(dob, inc.date);
                em.row.flag(c.encompass, (4..=17).contains(&age) && em.rng.chance(0.9));
                em.emit(k, inc.date)?;
            }
        }
        for o in &f.offences {
            let occ = next_ref(&mut serial, em, o.date);
            police_row(em, &c, &occ, o.date, "CRIME", "SUSPECT");
            em.row.set(c.outcome, o.police_outcome);
            em.emit(o.person, o.date)?;
        }
        for m in &f.missing {
            let occ = next_ref(&mut serial, em, m.date);
            police_row(em, &c, &occ, m.date, "MISSING_EPISODE", "MISSING_PERSON");
            em.row.set(c.missing_risk, m.risk);
            em.row.int(c.hours, u64::from(m.hours));
            em.emit(m.child, m.date)?;
        }
        for a in &f.asb {
            let occ = next_ref(&mut serial, em, a.date);
            police_row(em, &c, &occ, a.date, "ASB", "SUSPECT");
            em.row.set(c.outcome, a.outcome);
            em.emit(a.person, a.date)?;
        }
        for v in &f.cpv {
            let occ = next_ref(&mut serial, em, v.date);
            police_row(em, &c, &occ, v.date, "CHILD_TO_PARENT_VIOLENCE", "SUSPECT");
            em.row.set(c.outcome, v.outcome);
            em.emit(v.child, v.date)?;
            police_row(em, &c, &occ, v.date, "CHILD_TO_PARENT_VIOLENCE", "VICTIM");
            em.row.set(c.outcome, "NONE");
            em.emit(v.parent, v.date)?;
        }
    }
    Ok(())
}

/// A new occurrence reference: force code 47, the year, and a rising serial.
fn next_ref(serial: &mut u64, em: &mut Emitter<'_>, date: i32) -> String {
    *serial += 1 + em.rng.below(40);
    format!("47{:02}{:07}", civil_from_days(date).0 % 100, serial)
}

/// Starts a police row with the occurrence columns.
fn police_row(em: &mut Emitter<'_>, c: &PoliceCols, occ: &str, date: i32, kind: &str, role: &str) {
    em.row.clear();
    em.row.set(c.occ, occ);
    em.row.date(c.date, date);
    em.row.set(c.kind, kind);
    em.row.set(c.role, role);
}

fn youth_justice(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let c_date = em.col("offence_date")?;
    let c_cat = em.col("offence_category")?;
    let c_grav = em.col("gravity_score")?;
    let c_out = em.col("outcome_type")?;
    let c_outd = em.col("outcome_date")?;
    let c_fte = em.col("fte_flag")?;
    let c_ete = em.col("ete_status")?;
    let pop = em.pop;
    for fi in order(em) {
        for o in pop.families[fi as usize].offences.iter().filter(|o| o.youth) {
            em.row.clear();
            em.row.date(c_date, o.date);
            em.row.set(c_cat, o.category);
            em.row.int(c_grav, u64::from(o.gravity));
            em.row.set(c_out, o.outcome);
            em.row.date(c_outd, o.outcome_date);
            em.row.flag(c_fte, o.fte);
            let ete = if age_on(pop.person(o.person).dob, o.date) >= 16 {
                code(&mut em.rng, &[("EET", 55), ("NEET", 30), ("UNKNOWN", 15)])
            } else {
                code(&mut em.rng, &[("EET", 85), ("NEET", 5), ("UNKNOWN", 10)])
            };
            em.row.set(c_ete, ete);
            em.emit(o.person, o.date)?;
        }
    }
    Ok(())
}

fn housing(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let c_hh = em.col("household_ref")?;
    let c_role = em.col("role_in_household")?;
    let c_date = em.col("approach_date")?;
    let c_duty = em.col("duty_owed")?;
    let c_reason = em.col("reason_for_loss")?;
    let c_ta = em.col("ta_type")?;
    let c_tas = em.col("ta_start")?;
    let c_tae = em.col("ta_end")?;
    let c_arr = em.col("rent_arrears_balance")?;
    let c_kids = em.col("num_children")?;
    let pop = em.pop;
    let mut case = 0u64;
    for fi in order(em) {
        let f = &pop.families[fi as usize];
        for h in &f.housing {
            case += 1 + em.rng.below(3);
            let hh = format!("HC-{}-{:06}", civil_from_days(h.approach).0, case);
            let members: Vec<u32> = f
                .members
                .clone()
                .filter(|&p| {
                    let person = pop.person(p);
                    person.member != Member::AbsentParent && person.dob <= h.approach
                })
                .collect();
            let kids = members.iter().filter(|&&p| pop.person(p).member == Member::Child).count() as u64;
            for p in members {
                em.row.clear();
                em.row.set(c_hh, &hh);
                let child = pop.person(p).member == Member::Child;
                em.row.set(c_role, if child { "CHILD" } else { "PARENT_CARER" });
                em.row.date(c_date, h.approach);
                em.row.set(c_duty, h.duty);
                em.row.set(c_reason, h.reason);
                match h.ta {
                    Some((kind, s, e)) => {
                        em.row.set(c_ta, kind);
                        em.row.date(c_tas, s);
                        if let Some(e) = e {
                            em.row.date(c_tae, e);
                        }
                    }
                    None => em.row.set(c_ta, "NONE"),
                }
                if let Some(a) = h.arrears_pence {
                    em.row.money(c_arr, a);
                }
                em.row.int(c_kids, kids);
                em.emit(p, h.approach)?;
            }
        }
    }
    Ok(())
}

fn district(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let c_code = em.col("district_code")?;
    let c_date = em.col("event_date")?;
    let c_type = em.col("event_type")?;
    let c_amount = em.col("amount")?;
    let c_stage = em.col("enforcement_stage")?;
    let pop = em.pop;
    for fi in order(em) {
        let f = &pop.families[fi as usize];
        let code = super::geo::DISTRICTS[em.district_of(f.address.postcode) as usize].code;
        for e in &f.district {
            em.row.clear();
            em.row.set(c_code, code);
            em.row.date(c_date, e.date);
            em.row.set(c_type, e.kind);
            if let Some(a) = e.amount_pence {
                em.row.money(c_amount, a);
            }
            if let Some(s) = e.stage {
                em.row.set(c_stage, s);
            }
            em.emit(e.person, e.date)?;
        }
    }
    Ok(())
}

/// Column handles of the education feed.
struct EduCols {
    date: usize,
    kind: usize,
    pct: usize,
    days: usize,
    neet: usize,
    eh_outcome: usize,
    cin: usize,
    cpp: usize,
    lac: usize,
    ehcp: usize,
}

/// The school terms in the window: the academic year they belong to, and the last day.
fn terms() -> [(i32, i32); 9] {
    [
        (2022, days_from_civil(2023, 3, 31)),
        (2022, days_from_civil(2023, 7, 21)),
        (2023, days_from_civil(2023, 12, 20)),
        (2023, days_from_civil(2024, 3, 28)),
        (2023, days_from_civil(2024, 7, 23)),
        (2024, days_from_civil(2024, 12, 20)),
        (2024, days_from_civil(2025, 4, 4)),
        (2024, days_from_civil(2025, 7, 22)),
        (2025, days_from_civil(2025, 12, 19)),
    ]
}

/// The national curriculum year (0 = Reception) of a child in the academic year starting in
/// September of `year`.
fn year_group(dob: i32, year: i32) -> i32 {
    let (y, m, _) = civil_from_days(dob);
    let cohort = if m >= 9 { y } else { y - 1 };
    year - 5 - cohort
}

fn education(em: &mut Emitter<'_>) -> Result<(), SynthError> {
    let c = EduCols {
        date: em.col("event_date")?,
        kind: em.col("event_type")?,
        pct: em.col("attendance_pct")?,
        days: em.col("suspension_days")?,
        neet: em.col("neet_status")?,
        eh_outcome: em.col("early_help_outcome")?,
        cin: em.col("child_in_need")?,
        cpp: em.col("child_protection_plan")?,
        lac: em.col("looked_after")?,
        ehcp: em.col("ehc_plan")?,
    };
    let (start, end) = (start(), end());
    let terms = terms();
    let pop = em.pop;
    for fi in order(em) {
        let f = &pop.families[fi as usize];
        let risk = f.risk;
        for k in pop.children(f) {
            let person = pop.person(k);
            let on_roll = em.rng.chance(0.93);
            let boy = person.sex == "M";
            let offender = f.offences.iter().any(|o| o.person == k);
            for &(ay, last_day) in &terms {
                let g = year_group(person.dob, ay);
                if !(0..=11).contains(&g) || !on_roll {
                    continue;
                }
                let mut a = person.absence * (0.6 + 0.8 * em.rng.unit());
                let in_ta = f
                    .housing
                    .iter()
                    .any(|h| h.ta.is_some_and(|(_, s, e)| s <= last_day && e.is_none_or(|e| e >= last_day - 90)));
                if in_ta {
                    a += 0.05 + 0.07 * em.rng.unit();
                }
                if f.camhs.iter().any(|r| r.child == k && r.received <= last_day && r.received > last_day - 120) {
                    a += 0.04;
                }
                let tenths = ((1.0 - a.min(1.0)) * 1000.0).round().clamp(0.0, 1000.0) as u64;
                edu_row(em, &c, person.flags, last_day, "ATTENDANCE_TERM");
                em.row.tenths(c.pct, tenths);
                em.emit(k, last_day)?;
            }
            // Suspensions and exclusions, by academic year.
            for ay in 2022..=2025 {
                let g = year_group(person.dob, ay);
                if !(1..=11).contains(&g) || !on_roll {
                    continue;
                }
                let lo = days_from_civil(ay, 9, 5).max(start);
                let hi = days_from_civil(ay + 1, 7, 18).min(end);
                if lo > hi {
                    continue;
                }
                let p = (0.01 + 0.12 * risk + if offender { 0.08 } else { 0.0 }) * if boy { 1.4 } else { 0.7 };
                if em.rng.chance(p) {
                    for _ in 0..1 + em.rng.below(2) {
                        let date = em.rng.day(lo, hi);
                        edu_row(em, &c, person.flags, date, "SUSPENSION");
                        em.row.tenths(c.days, 5 * (1 + em.rng.below(10)));
                        em.emit(k, date)?;
                    }
                }
                if g >= 7 && em.rng.chance(0.0005 + 0.01 * risk) {
                    let date = em.rng.day(lo, hi);
                    edu_row(em, &c, person.flags, date, "PERMANENT_EXCLUSION");
                    em.emit(k, date)?;
                }
            }
            // Post-16 participation, twice a year.
            let neet_p = 0.03 + 0.2 * risk + if offender { 0.15 } else { 0.0 };
            for ay in 2022..=2025 {
                let g = year_group(person.dob, ay);
                if !(12..=13).contains(&g) {
                    continue;
                }
                for date in [days_from_civil(ay + 1, 1, 31), days_from_civil(ay + 1, 6, 30)] {
                    if date < start || date > end {
                        continue;
                    }
                    let status = if em.rng.chance(neet_p) {
                        "NEET"
                    } else if em.rng.chance(0.06) {
                        "UNKNOWN"
                    } else {
                        "EET"
                    };
                    edu_row(em, &c, person.flags, date, "NEET_STATUS");
                    em.row.set(c.neet, status);
                    em.emit(k, date)?;
                }
            }
            // Early help episodes of the family, for each child then alive and under 18.
            for ep in &f.early_help {
                if person.dob > ep.open || age_on(person.dob, ep.open) > 17 {
                    continue;
                }
                edu_row(em, &c, person.flags, ep.open, "EARLY_HELP_OPEN");
                em.emit(k, ep.open)?;
                if let Some((close, outcome)) = ep.close {
                    edu_row(em, &c, person.flags, close, "EARLY_HELP_CLOSE");
                    em.row.set(c.eh_outcome, outcome);
                    em.emit(k, close)?;
                }
            }
        }
    }
    Ok(())
}

/// Starts an education row with its date, type and the child's cohort flags.
fn edu_row(em: &mut Emitter<'_>, c: &EduCols, f: u8, date: i32, kind: &str) {
    em.row.clear();
    em.row.date(c.date, date);
    em.row.set(c.kind, kind);
    em.row.flag(c.cin, f & flags::CIN != 0);
    em.row.flag(c.cpp, f & flags::CPP != 0);
    em.row.flag(c.lac, f & flags::LAC != 0);
    em.row.flag(c.ehcp, f & flags::EHCP != 0);
}
