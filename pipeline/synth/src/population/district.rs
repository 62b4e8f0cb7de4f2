//! What the district council records about a family: council tax arrears and reduction,
//! crisis and housing support payments, housing conditions and anti-social behaviour cases.

use tellonce_schemas::identifiers::dates::days_from_civil;

use super::draw::{count, days, pounds};
use super::events::Needs;
use super::{DistrictEvent, Family, end, start};
use crate::rng::Rng;

/// Draws the family's district events (after its children's, which add ASB cases) and sorts
/// them by date. `parents` are the resident parents, the lead first.
pub(super) fn events(f: &mut Family, rng: &mut Rng, parents: &[u32], has_children: bool, needs: &Needs) {
    let (start, end) = (start(), end());
    let Needs { risk, .. } = *needs;
    let lead = parents[0];
    let liable = if parents.len() > 1 && rng.chance(0.3) { parents[1] } else { lead };
    council_tax_arrears(f, rng, liable, needs);
    council_tax_reduction(f, rng, liable, needs);
    support_payments(f, rng, liable, has_children, needs);
    if rng.chance(0.005 + 0.05 * risk) {
        f.district.push(DistrictEvent {
            date: rng.day(start, end),
            person: liable,
            kind: "HOUSING_CONDITION",
            amount_pence: None,
            stage: None,
        });
    }
    if rng.chance(0.005 + 0.04 * risk) {
        f.district.push(DistrictEvent {
            date: rng.day(start, end),
            person: lead,
            kind: "ASB_CASE",
            amount_pence: None,
            stage: None,
        });
    }
    f.district.sort_by_key(|e| e.date);
}

/// Council tax arrears and their recovery, each stage less likely than the one before.
fn council_tax_arrears(f: &mut Family, rng: &mut Rng, liable: u32, needs: &Needs) {
    let (start, end) = (start(), end());
    let Needs { risk, crisis: c, .. } = *needs;
    if rng.chance(0.04 + 0.5 * risk + 0.2 * c) {
        for _ in 0..count(rng, 0.25, 2) {
            let mut d = rng.day(start, end - 30);
            let mut arrears = pounds(rng, 120, 2500, false);
            let stages = ["REMINDER", "SUMMONS", "LIABILITY_ORDER", "ENFORCEMENT_AGENT"];
            for (i, stage) in stages.into_iter().enumerate() {
                if d > end || (i > 0 && !rng.chance([1.0, 0.65, 0.6, 0.4][i])) {
                    break;
                }
                let kind = "COUNCIL_TAX_ARREARS";
                f.district.push(DistrictEvent {
                    date: d,
                    person: liable,
                    kind,
                    amount_pence: Some(arrears),
                    stage: Some(stage),
                });
                if stage == "SUMMONS" {
                    // A summons adds the council's costs to the debt.
                    arrears += 7_000;
                }
                d += rng.day(14, 90);
            }
        }
    }
}

/// Council tax reduction, awarded each April and usually renewed.
fn council_tax_reduction(f: &mut Family, rng: &mut Rng, liable: u32, needs: &Needs) {
    let risk = needs.risk;
    if rng.chance(0.06 + 0.7 * risk) {
        let weekly = pounds(rng, 3, 32, false);
        for year in 2023..=2025 {
            if year > 2023 && !rng.chance(0.85) {
                break;
            }
            let date = days_from_civil(year, 4, 1) + rng.day(-10, 20);
            let amount = Some(weekly + rng.range(-150, 250).max(-weekly + 100));
            f.district.push(DistrictEvent {
                date,
                person: liable,
                kind: "COUNCIL_TAX_REDUCTION",
                amount_pence: amount,
                stage: None,
            });
        }
    }
}

/// Crisis payments, a discretionary housing payment around a homelessness approach, and the
/// Household Support Fund in school holidays for families with children.
fn support_payments(f: &mut Family, rng: &mut Rng, liable: u32, has_children: bool, needs: &Needs) {
    let (start, end) = (start(), end());
    let Needs { risk, crisis: c, .. } = *needs;
    if rng.chance(0.01 + 0.3 * risk + 0.25 * c) {
        for date in days(rng, 0.4, 3, start, end) {
            let amount = Some(pounds(rng, 40, 300, false));
            f.district.push(DistrictEvent {
                date,
                person: liable,
                kind: "CRISIS_PAYMENT",
                amount_pence: amount,
                stage: None,
            });
        }
    }
    if let Some(h) = f.housing.first()
        && rng.chance(0.35 + 0.03 * risk)
    {
        let date = (h.approach + rng.day(-30, 90)).clamp(start, end);
        let amount = Some(pounds(rng, 150, 1800, false));
        let kind = "DISCRETIONARY_HOUSING_PAYMENT";
        f.district.push(DistrictEvent { date, person: liable, kind, amount_pence: amount, stage: None });
    }
    if has_children && rng.chance(0.03 + 0.45 * risk) {
        let holidays = [
            (2023, 7, 24),
            (2023, 12, 18),
            (2024, 4, 2),
            (2024, 7, 25),
            (2024, 12, 19),
            (2025, 4, 7),
            (2025, 7, 24),
            (2025, 12, 18),
        ];
        for _ in 0..count(rng, 0.5, 4) {
            let (y, m, d) = *rng.pick(&holidays);
            let date = days_from_civil(y, m, d) + rng.day(-14, 7);
            let amount = Some(pounds(rng, 8, 30, true) * 5);
            f.district.push(DistrictEvent {
                date,
                person: liable,
                kind: "HOUSEHOLD_SUPPORT_FUND",
                amount_pence: amount,
                stage: None,
            });
        }
    }
}
