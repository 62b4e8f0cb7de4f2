//! What happens to each child: CAMHS referrals, offending known to the Youth Justice Service,
//! social care and SEND flags, missing episodes, anti-social behaviour, child-to-parent violence
//! and school absence.

use tellonce_schemas::identifiers::dates::civil_from_days;

use super::draw::{code, count, days, gravity, offence_category};
use super::events::Needs;
use super::{
    Asb, Builder, Cpv, DistrictEvent, Family, Missing, Offence, Referral, add_years, age_on, aged_between, end, flags,
    start,
};
use crate::rng::Rng;

/// The child an event is drawn for.
#[derive(Clone, Copy)]
struct Child {
    id: u32,
    dob: i32,
    boy: bool,
}

impl Child {
    /// How much more (or less) likely offending and anti-social behaviour are for the child's sex.
    fn sex_weight(self) -> f64 {
        if self.boy { 1.5 } else { 0.6 }
    }
}

/// Flags drawn for a child that later events depend on.
struct Cohort {
    lac: bool,
    ehcp: bool,
}

impl Builder<'_> {
    /// Draws what happens to child `k`; `lead` is the parent a child's violence is recorded
    /// against. Returns whether the child was referred to CAMHS.
    pub(super) fn child_events(&mut self, f: &mut Family, rng: &mut Rng, k: u32, lead: u32, needs: &Needs) -> bool {
        let child = {
            let p = &self.persons[k as usize];
            Child { id: k, dob: p.dob, boy: p.sex == "M" }
        };
        let camhs = camhs_referrals(f, rng, child, needs);
        let offender = self.youth_offending(f, rng, child, needs);
        let cohort = self.cohort_flags(rng, child, needs);
        missing_episodes(f, rng, child, needs, camhs, cohort.lac);
        anti_social_behaviour(f, rng, child, needs);
        child_to_parent_violence(f, rng, child, lead, needs, camhs);
        self.persons[k as usize].absence = absence(rng, needs, camhs, cohort.ehcp, offender);
        camhs > 0.0
    }

    /// Offences by a child aged 10-17, with youth justice outcomes that escalate with each
    /// offence and its gravity. Returns 1.0 if the child offended, else 0.0.
    fn youth_offending(&mut self, f: &mut Family, rng: &mut Rng, child: Child, needs: &Needs) -> f64 {
        let (start, end) = (start(), end());
        let Needs { risk, da, .. } = *needs;
        let (k, dob, sexw) = (child.id, child.dob, child.sex_weight());
        let mut offender = 0.0;
        if let Some((lo, hi)) = aged_between(dob, 10, 17, start, end - 120)
            && rng.chance((0.004 + 0.15 * risk + 0.03 * da) * sexw)
        {
            offender = 1.0;
            let y10 = civil_from_days(add_years(dob, 10)).0;
            let prior = y10 < 2023 && rng.chance(0.15);
            self.persons[k as usize].prior_record = prior;
            if prior {
                self.pnc(k, rng.range(i64::from(y10.max(2015)), 2022) as i32);
            }
            let mut fte_given = prior;
            for (i, date) in days(rng, 0.45, 5, lo, hi).into_iter().enumerate() {
                let category = offence_category(rng);
                let gravity = gravity(rng, category);
                let shift = i as u32 * 8 + u32::from(gravity >= 3) * 10;
                let outcome = youth_outcome(rng, shift);
                let formal =
                    matches!(outcome, "YOUTH_CAUTION" | "YOUTH_CONDITIONAL_CAUTION" | "REFERRAL_ORDER" | "YRO" | "DTO");
                let fte = formal && !fte_given;
                fte_given |= formal;
                if formal {
                    self.pnc(k, civil_from_days(date).0);
                }
                let police_outcome = match outcome {
                    "NFA" => "NFA",
                    "COMMUNITY_RESOLUTION" => "COMMUNITY_RESOLUTION",
                    "REFERRAL_ORDER" | "YRO" | "DTO" => "CHARGE",
                    _ => "ARREST",
                };
                f.offences.push(Offence {
                    person: k,
                    date,
                    category,
                    gravity,
                    outcome,
                    outcome_date: date + rng.day(14, 120),
                    fte,
                    police_outcome,
                    youth: true,
                });
            }
        }
        offender
    }

    /// Child in need, child protection, looked after and EHCP flags.
    fn cohort_flags(&mut self, rng: &mut Rng, child: Child, needs: &Needs) -> Cohort {
        let Needs { risk, da, da_high, .. } = *needs;
        let boy = child.boy;
        let mut lac = false;
        let mut ehcp = false;
        let p = &mut self.persons[child.id as usize];
        if rng.chance(0.004 + 0.06 * risk + 0.04 * da) {
            p.flags |= flags::CIN;
        }
        if rng.chance(0.001 + 0.02 * risk + if da_high { 0.12 } else { 0.0 }) {
            p.flags |= flags::CPP;
        }
        if rng.chance(0.002 + 0.02 * risk) {
            p.flags |= flags::LAC;
            lac = true;
        }
        if p.upn.is_some() && rng.chance(if boy { 0.034 } else { 0.017 } + 0.03 * risk) {
            p.flags |= flags::EHCP;
            ehcp = true;
        }
        Cohort { lac, ehcp }
    }
}

/// CAMHS referrals for a child aged 5-17 (a date when the child is under 8 is often drawn again,
/// as referrals are rarer at that age). Returns 1.0 if the child was referred, else 0.0.
fn camhs_referrals(f: &mut Family, rng: &mut Rng, child: Child, needs: &Needs) -> f64 {
    let (start, end) = (start(), end());
    let Needs { risk, da, .. } = *needs;
    let (k, dob, boy) = (child.id, child.dob, child.boy);
    let mut camhs = 0.0;
    if let Some((lo, hi)) = aged_between(dob, 5, 17, start, end)
        && rng.chance(0.045 + 0.3 * risk + 0.08 * da)
    {
        camhs = 1.0;
        for _ in 0..count(rng, 0.2, 2) {
            let mut received = rng.day(lo, hi);
            if age_on(dob, received) < 8 && rng.chance(0.6) {
                received = rng.day(lo, hi);
            }
            f.camhs.push(referral(rng, k, received, boy, age_on(dob, received), end));
        }
    }
    camhs
}

/// The youth justice outcome of an offence; `shift` moves weight from informal outcomes to
/// court orders as offences repeat and grow graver.
fn youth_outcome(rng: &mut Rng, shift: u32) -> &'static str {
    code(
        rng,
        &[
            ("NFA", 10u32.saturating_sub(shift / 3)),
            ("COMMUNITY_RESOLUTION", 30u32.saturating_sub(shift)),
            ("OUTCOME_22", 15),
            ("YOUTH_CAUTION", 15),
            ("YOUTH_CONDITIONAL_CAUTION", 15 + shift / 2),
            ("REFERRAL_ORDER", 12 + shift),
            ("YRO", 2 + shift / 2),
            ("DTO", 1 + shift / 6),
        ],
    )
}

/// Missing episodes of a child aged 10-17, more likely for a child in care or known to CAMHS.
fn missing_episodes(f: &mut Family, rng: &mut Rng, child: Child, needs: &Needs, camhs: f64, lac: bool) {
    let (start, end) = (start(), end());
    let risk = needs.risk;
    let (k, dob) = (child.id, child.dob);
    if let Some((lo, hi)) = aged_between(dob, 10, 17, start, end)
        && rng.chance(0.005 + 0.12 * risk + 0.05 * camhs + if lac { 0.2 } else { 0.0 })
    {
        for date in days(rng, 0.5, 6, lo, hi) {
            let risk_code = code(rng, &[("NO_APPARENT_RISK", 25), ("LOW", 40), ("MEDIUM", 28), ("HIGH", 7)]);
            let hours = if risk_code == "HIGH" { rng.range(6, 96) } else { rng.range(1, 30) } as u32;
            f.missing.push(Missing { child: k, date, risk: risk_code, hours });
        }
    }
}

/// Anti-social behaviour by a child aged 12-17 known to police, some of it also a district
/// council case.
fn anti_social_behaviour(f: &mut Family, rng: &mut Rng, child: Child, needs: &Needs) {
    let (start, end) = (start(), end());
    let risk = needs.risk;
    let (k, dob, sexw) = (child.id, child.dob, child.sex_weight());
    if let Some((lo, hi)) = aged_between(dob, 12, 17, start, end)
        && rng.chance((0.008 + 0.12 * risk) * sexw)
    {
        for date in days(rng, 0.3, 2, lo, hi) {
            let outcome = code(rng, &[("NONE", 30), ("NFA", 30), ("COMMUNITY_RESOLUTION", 40)]);
            f.asb.push(Asb { person: k, date, outcome });
            if rng.chance(0.4) {
                let d = (date + rng.day(7, 60)).min(end);
                f.district.push(DistrictEvent {
                    date: d,
                    person: k,
                    kind: "ASB_CASE",
                    amount_pence: None,
                    stage: None,
                });
            }
        }
    }
}

/// Violence by a child aged 12-17 against the lead parent, reported to police.
fn child_to_parent_violence(f: &mut Family, rng: &mut Rng, child: Child, lead: u32, needs: &Needs, camhs: f64) {
    let (start, end) = (start(), end());
    let risk = needs.risk;
    if let Some((lo, hi)) = aged_between(child.dob, 12, 17, start, end)
        && rng.chance(0.002 + 0.05 * risk + 0.03 * camhs)
    {
        let outcome = code(rng, &[("NFA", 50), ("COMMUNITY_RESOLUTION", 25), ("ARREST", 15), ("NONE", 10)]);
        f.cpv.push(Cpv { child: child.id, parent: lead, date: rng.day(lo, hi), outcome });
    }
}

/// The share of sessions a child misses in a typical term.
fn absence(rng: &mut Rng, needs: &Needs, camhs: f64, ehcp: bool, offender: f64) -> f64 {
    let Needs { risk, crisis: c, da, .. } = *needs;
    // Mostly low, higher with need, mental health, a housing crisis, domestic abuse, SEND and
    // offending, and a severe tail.
    let mut absence = 0.025
        + 0.06 * rng.unit()
        + 0.22 * risk
        + 0.07 * camhs
        + 0.04 * c
        + 0.03 * da
        + if ehcp { 0.04 } else { 0.0 }
        + 0.05 * offender;
    if rng.chance(0.008 + 0.06 * risk + 0.05 * camhs) {
        absence += 0.25 + 0.4 * rng.unit();
    }
    absence.min(0.95)
}

/// A CAMHS referral received on a day for a child of an age.
fn referral(rng: &mut Rng, child: u32, received: i32, boy: bool, age: i32, end: i32) -> Referral {
    let teen_girl = !boy && age >= 12;
    let reason = code(
        rng,
        &[
            ("ANXIETY", 28),
            ("DEPRESSION", if age >= 12 { 16 } else { 4 }),
            ("SELF_HARM", if teen_girl { 16 } else { 4 }),
            ("EATING_DISORDER", if teen_girl { 8 } else { 1 }),
            ("NEURODEVELOPMENTAL", if age < 12 { 35 } else { 12 } + if boy { 10 } else { 0 }),
            ("CONDUCT", if boy { 10 } else { 4 }),
            ("CRISIS", if age >= 12 { 6 } else { 1 }),
            ("OTHER", 8),
        ],
    );
    let source = code(
        rng,
        &[
            ("GP", 35),
            ("SELF", if age >= 14 { 8 } else { 1 }),
            ("LA_SOCIAL_CARE", 8),
            ("AE", if reason == "CRISIS" || reason == "SELF_HARM" { 30 } else { 4 }),
            ("EDUCATION", 25),
            ("POLICE", 3),
            ("CARER", 7),
            ("OTHER", 9),
        ],
    );
    let priority = if reason == "CRISIS" {
        code(rng, &[("EMERGENCY", 40), ("VERY_URGENT", 35), ("URGENT", 25)])
    } else {
        code(rng, &[("ROUTINE", 78), ("URGENT", 17), ("VERY_URGENT", 4), ("EMERGENCY", 1)])
    };
    let outcome = if received > end - 21 && rng.chance(0.6) {
        "PENDING"
    } else {
        code(rng, &[("ACCEPTED", 68), ("REJECTED", 27), ("PENDING", 5)])
    };
    let mut r = Referral {
        child,
        received,
        source,
        reason,
        priority,
        outcome,
        first_contact: None,
        contacts: None,
        discharge: None,
    };
    if outcome == "ACCEPTED" {
        let wait = if priority == "ROUTINE" { rng.day(14, 200) } else { rng.day(0, 14) };
        let first = received + wait;
        if first <= end {
            r.first_contact = Some(first);
            let attended = rng.range(1, 20) as u16;
            let dna = rng.weighted(&[60, 20, 10, 6, 4]) as u16;
            r.contacts = Some((attended, dna));
            let discharge = first + rng.day(30, 400);
            if discharge <= end {
                let reason = if dna >= 3 {
                    "DNA"
                } else {
                    code(
                        rng,
                        &[
                            ("TREATMENT_COMPLETED", 60),
                            ("DNA", 8),
                            ("TRANSFERRED", 12),
                            ("MOVED_AWAY", 5),
                            ("OTHER", 15),
                        ],
                    )
                };
                r.discharge = Some((discharge, reason));
            }
        } else {
            r.contacts = Some((0, 0));
        }
    }
    r
}
