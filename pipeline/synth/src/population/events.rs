//! What happens to a family in the window, drawn from its need propensity: a housing crisis and
//! moves, domestic abuse, parents' offending and early help here; the children's events are in
//! `children`, the district council's in `district`.

use tellonce_schemas::identifiers::dates::civil_from_days;

use super::draw::{code, count, days, gravity, offence_category, pounds};
use super::{Builder, DaIncident, Episode, Family, HousingCase, Member, Offence, add_years, end, start};
use crate::geo::DISTRICTS;
use crate::rng::Rng;

/// What raises the chance of a family's later events, as drawn so far.
#[derive(Clone, Copy)]
pub(super) struct Needs {
    /// The family's chance of adversity (0..1).
    pub risk: f64,
    /// 1.0 if the family approached the council as homeless, else 0.0.
    pub crisis: f64,
    /// 1.0 if police attended domestic abuse in the family, else 0.0.
    pub da: f64,
    /// Some domestic abuse incident was assessed high risk.
    pub da_high: bool,
}

impl Builder<'_> {
    /// Draws what happens to a family and its members in the window.
    pub(super) fn events(&mut self, f: &mut Family, rng: &mut Rng) {
        let parents: Vec<u32> =
            f.members.clone().filter(|&p| self.persons[p as usize].member == Member::Parent).collect();
        let kids: Vec<u32> = f.members.clone().filter(|&p| self.persons[p as usize].member == Member::Child).collect();
        let absent: Option<u32> = f.members.clone().find(|&p| self.persons[p as usize].member == Member::AbsentParent);
        let Some(&lead) = parents.first() else { return };

        housing_crisis(f, rng);
        let crisis = !f.housing.is_empty();
        let c = f64::from(u8::from(crisis));
        self.maybe_moved(f, rng, c);
        self.domestic_abuse(f, rng, &parents, absent, c);
        let da = f64::from(u8::from(!f.da.is_empty()));
        let da_high = f.da.iter().any(|d| d.risk == "HIGH");
        housing_reason(f, rng);
        self.parents_offending(f, rng, &parents);
        let needs = Needs { risk: f.risk, crisis: c, da, da_high };

        let mut any_camhs = 0.0;
        for &k in &kids {
            if self.child_events(f, rng, k, lead, &needs) {
                any_camhs = 1.0;
            }
        }
        super::district::events(f, rng, &parents, !kids.is_empty(), &needs);
        if !kids.is_empty() {
            early_help(f, rng, &needs, any_camhs);
        }
    }

    /// Gives the family a previous address for some (more often after a housing crisis).
    fn maybe_moved(&mut self, f: &mut Family, rng: &mut Rng, c: f64) {
        let geo = self.geo;
        if rng.chance(0.15 + 0.3 * c) {
            let pc = f.address.postcode;
            let d = if rng.chance(0.75) { geo.district_of(pc) } else { rng.index(DISTRICTS.len()) as u8 };
            let old = geo.postcode_in(d, rng);
            f.previous = Some(self.book.allocate(geo, old, rng));
        }
    }

    /// Domestic abuse: victim and suspect among the parents, or the absent parent.
    fn domestic_abuse(&mut self, f: &mut Family, rng: &mut Rng, parents: &[u32], absent: Option<u32>, c: f64) {
        let (start, end) = (start(), end());
        let risk = f.risk;
        let suspect_pool: Option<(u32, u32)> = match (parents, absent) {
            ([m, d], _) => Some(if rng.chance(0.85) { (*m, *d) } else { (*d, *m) }),
            ([m], Some(x)) => Some((*m, x)),
            _ => None,
        };
        if let Some((victim, suspect)) = suspect_pool
            && rng.chance(0.02 + 0.35 * risk + 0.2 * c)
        {
            for (i, date) in days(rng, 0.35, 5, start, end).into_iter().enumerate() {
                let w = i as u32 * 8;
                let risk_code =
                    code(rng, &[("STANDARD", 60u32.saturating_sub(w * 2)), ("MEDIUM", 28 + w), ("HIGH", 12 + w)]);
                let suspect_outcome = code(
                    rng,
                    &[
                        ("ARREST", 35),
                        ("NFA", 30),
                        ("CHARGE", 15),
                        ("ONGOING", 10),
                        ("COMMUNITY_RESOLUTION", 5),
                        ("NONE", 5),
                    ],
                );
                if matches!(suspect_outcome, "ARREST" | "CHARGE") {
                    self.pnc(suspect, civil_from_days(date).0);
                }
                f.da.push(DaIncident {
                    date,
                    victim,
                    suspect,
                    risk: risk_code,
                    children_present: rng.chance(0.55),
                    suspect_outcome,
                });
            }
        }
    }

    /// Parents offending outside the home.
    fn parents_offending(&mut self, f: &mut Family, rng: &mut Rng, parents: &[u32]) {
        let (start, end) = (start(), end());
        let risk = f.risk;
        for &p in parents {
            if rng.chance(0.008 + 0.08 * risk) {
                let dob = self.persons[p as usize].dob;
                let first_year = (civil_from_days(add_years(dob, 18)).0).max(1995);
                self.pnc(p, rng.range(i64::from(first_year), 2025) as i32);
                for date in days(rng, 0.3, 3, start, end) {
                    let category = offence_category(rng);
                    let police_outcome = code(
                        rng,
                        &[("ARREST", 30), ("CHARGE", 30), ("NFA", 25), ("COMMUNITY_RESOLUTION", 10), ("ONGOING", 5)],
                    );
                    f.offences.push(Offence {
                        person: p,
                        date,
                        category,
                        gravity: gravity(rng, category),
                        outcome: "",
                        outcome_date: date,
                        fte: false,
                        police_outcome,
                        youth: false,
                    });
                }
            }
        }
    }
}

/// A homelessness approach for some families, with temporary accommodation for some owed a
/// relief or main duty. Its reason waits for domestic abuse to be drawn ([`housing_reason`]).
fn housing_crisis(f: &mut Family, rng: &mut Rng) {
    let (start, end) = (start(), end());
    let risk = f.risk;
    if rng.chance(0.012 + 0.35 * risk) {
        let approach = rng.day(start, end - 30);
        let duty = code(rng, &[("PREVENTION", 55), ("RELIEF", 30), ("MAIN", 10), ("NONE", 5)]);
        let ta = if matches!(duty, "RELIEF" | "MAIN") && rng.chance(0.6) {
            let kind = code(
                rng,
                &[
                    ("BED_AND_BREAKFAST", 15),
                    ("NIGHTLY_PAID", 30),
                    ("HOSTEL", 10),
                    ("PRIVATE_SECTOR_LEASED", 25),
                    ("SOCIAL_STOCK", 20),
                ],
            );
            let s = approach + rng.day(0, 30);
            let e = s + rng.day(14, 420);
            Some((kind, s, (e <= end).then_some(e)))
        } else {
            None
        };
        f.housing.push(HousingCase { approach, duty, reason: "", ta, arrears_pence: None });
    }
}

/// The reason for the housing approach (domestic abuse more likely after an incident) and any
/// rent arrears.
fn housing_reason(f: &mut Family, rng: &mut Rng) {
    if let Some(h) = f.housing.first_mut() {
        let da_before = f.da.iter().any(|d| d.date <= h.approach);
        h.reason = if da_before && rng.chance(0.6) {
            "DOMESTIC_ABUSE"
        } else {
            code(
                rng,
                &[
                    ("END_OF_PRIVATE_TENANCY", 38),
                    ("FAMILY_FRIENDS_EVICTION", 22),
                    ("RELATIONSHIP_BREAKDOWN", 14),
                    ("RENT_ARREARS", 12),
                    ("DOMESTIC_ABUSE", 4),
                    ("OTHER", 10),
                ],
            )
        };
        if h.reason == "RENT_ARREARS" || rng.chance(0.2) {
            h.arrears_pence = Some(pounds(rng, 300, 6000, false));
        }
    }
}

/// Early help episodes for a family with children; `any_camhs` is 1.0 if a child was referred
/// to CAMHS.
fn early_help(f: &mut Family, rng: &mut Rng, needs: &Needs, any_camhs: f64) {
    let (start, end) = (start(), end());
    let Needs { risk, crisis: c, da, .. } = *needs;
    if rng.chance(0.01 + 0.35 * risk + 0.2 * da + 0.1 * c + 0.1 * any_camhs) {
        let mut open = rng.day(start, end - 30);
        for _ in 0..count(rng, 0.15, 2) {
            if open > end {
                break;
            }
            let close = open + rng.day(60, 360);
            let outcome = code(
                rng,
                &[
                    ("NEEDS_MET", 55),
                    ("STEP_UP_TO_SOCIAL_CARE", 12),
                    ("DISENGAGED", 18),
                    ("MOVED_AWAY", 5),
                    ("OTHER", 10),
                ],
            );
            f.early_help.push(Episode { open, close: (close <= end).then_some((close, outcome)) });
            open = close + rng.day(60, 300);
        }
    }
}
