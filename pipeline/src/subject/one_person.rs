//! The rule that the identifiers given to a subject access request describe one person,
//! judged on pseudonyms (tokens) and on the last linkage build's `person_id`s, before anything
//! is listed or erased (README, "Agreements, audit and data subjects' rights").

use std::collections::BTreeMap;

use super::SubjectTokens;

/// Identifiers that do not change over a life: a record carrying another value of one given is
/// someone else's.
pub(super) const STABLE: [&str; 4] = ["nhs_number", "upn", "pnc_id", "date_of_birth"];

/// Names, which may change (marriage, a nickname) but not on every record at once.
pub(super) const NAMES: [&str; 2] = ["forename", "surname"];

/// A way a lookup finds records: one strong identifier, or the four together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// `nhs_number`, `upn` or `pnc_id`.
    Strong(&'static str),
    /// forename, surname, date of birth and postcode together.
    Combined,
}

impl Route {
    pub(super) fn name(self) -> &'static str {
        match self {
            Route::Strong(n) => n,
            Route::Combined => "forename+surname+date_of_birth+postcode",
        }
    }
}

/// How one staging row matched.
#[derive(Debug, Clone, Default)]
pub(super) struct RowMatch {
    /// The routes it matched by (at least one).
    pub(super) routes: Vec<Route>,
    /// Stable identifiers given that it carries with another value.
    pub(super) disagree: Vec<&'static str>,
    /// Names given that it carries: whether it carries the same one.
    pub(super) names: Vec<(&'static str, bool)>,
}

impl SubjectTokens {
    /// Judges whether the records found describe one person, before anything is listed or
    /// erased. The rule (README, "Subject access"):
    ///
    /// 1. A record found by any route must not carry a different value (token) of a stable
    ///    identifier given: NHS number, UPN, PNC ID, date of birth. These do not change over a
    ///    life; names and postcodes do (marriage, a move), so a record found by a strong
    ///    identifier may carry another name or postcode.
    /// 2. Of the records a strong identifier finds that carry a forename (surname), at least
    ///    one must carry the forename (surname) given: a name may change, but a person's own
    ///    number does not point only at records under another name. Postcodes are not judged
    ///    (people move).
    /// 3. Every route given must lead to the same person: two routes meet when a record matches
    ///    both, or when records they found are linked to the same `person_id` in `links/`
    ///    (the `person_id` beside each record found). A route that finds nothing is not judged:
    ///    it discloses no one. Nothing found at all is no contradiction.
    pub(super) fn judge(&self, found: &[(&RowMatch, Option<&str>)]) -> Result<(), String> {
        // Rule 1.
        for stable in STABLE {
            let by: Vec<&str> = {
                let mut by: Vec<&str> = found
                    .iter()
                    .filter(|(m, _)| m.disagree.contains(&stable))
                    .flat_map(|(m, _)| m.routes.iter().map(|r| r.name()))
                    .collect();
                by.sort_unstable();
                by.dedup();
                by
            };
            if !by.is_empty() {
                return Err(format!(
                    "records matched on {} carry a different {stable} from the one given",
                    by.join(" and on ")
                ));
            }
        }
        // Rule 2.
        for route in self.routes().into_iter().filter(|r| matches!(r, Route::Strong(_))) {
            for name in NAMES {
                let carried: Vec<bool> = found
                    .iter()
                    .filter(|(m, _)| m.routes.contains(&route))
                    .flat_map(|(m, _)| m.names.iter().filter(|(n, _)| *n == name).map(|(_, same)| *same))
                    .collect();
                if !carried.is_empty() && !carried.contains(&true) {
                    return Err(format!(
                        "records matched on {} carry another {name} than the one given, and none carries it",
                        route.name()
                    ));
                }
            }
        }
        // Rule 3.
        let routes = self.routes();
        if found.is_empty() || routes.len() < 2 {
            return Ok(());
        }
        // Union-find over at most four routes.
        let mut parent: Vec<usize> = (0..routes.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                i = parent[i];
            }
            i
        }
        let index = |r: Route| routes.iter().position(|x| *x == r);
        let mut people: BTreeMap<&str, usize> = BTreeMap::new();
        for (m, person) in found {
            let ids: Vec<usize> = m.routes.iter().filter_map(|r| index(*r)).collect();
            let mut joined: Vec<usize> = ids.clone();
            if let Some(p) = person {
                if let Some(&other) = people.get(p) {
                    joined.push(other);
                }
                if let Some(&first) = ids.first() {
                    people.entry(p).or_insert(first);
                }
            }
            for w in joined.windows(2) {
                let (a, b) = (root(&mut parent, w[0]), root(&mut parent, w[1]));
                parent[a] = b;
            }
        }
        // Only routes that found records must meet: an identifier that finds nothing discloses
        // no one (the person may simply have no record carrying it).
        let finding: Vec<usize> =
            (0..routes.len()).filter(|&i| found.iter().any(|(m, _)| m.routes.contains(&routes[i]))).collect();
        let Some(&first) = finding.first() else { return Ok(()) };
        let first = root(&mut parent, first);
        let apart: Vec<usize> = finding.iter().copied().filter(|&i| root(&mut parent, i) != first).collect();
        if apart.is_empty() {
            return Ok(());
        }
        let names = |ids: &[usize]| ids.iter().map(|&i| routes[i].name()).collect::<Vec<_>>().join(" and ");
        let together: Vec<usize> = finding.iter().copied().filter(|i| !apart.contains(i)).collect();
        Err(format!(
            "{} and {} find records of different people (no record, and no linked person, carries both)",
            names(&together),
            names(&apart)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subject with tokens for `names` (values do not matter to the judge).
    fn subject(names: &[&'static str]) -> SubjectTokens {
        SubjectTokens { tokens: names.iter().map(|n| (*n, [1u8; 16])).collect() }
    }

    fn row(routes: &[Route], disagree: &[&'static str]) -> RowMatch {
        RowMatch { routes: routes.to_vec(), disagree: disagree.to_vec(), names: Vec::new() }
    }

    const NHS: Route = Route::Strong("nhs_number");
    const UPN: Route = Route::Strong("upn");
    const ALL: [&str; 6] = ["nhs_number", "upn", "forename", "surname", "date_of_birth", "postcode"];

    #[test]
    fn a_stable_identifier_that_disagrees_is_refused_naming_both() {
        let s = subject(&ALL);
        let a = row(&[NHS], &["date_of_birth"]);
        let err = s.judge(&[(&a, None)]).unwrap_err();
        assert_eq!(err, "records matched on nhs_number carry a different date_of_birth from the one given");
    }

    #[test]
    fn a_strong_identifier_must_find_at_least_one_record_under_the_names_given() {
        let s = subject(&["upn", "forename", "surname"]);
        let upn = Route::Strong("upn");
        let other =
            RowMatch { routes: vec![upn], disagree: vec![], names: vec![("forename", false), ("surname", true)] };
        let err = s.judge(&[(&other, None)]).unwrap_err();
        assert_eq!(err, "records matched on upn carry another forename than the one given, and none carries it");
        // An older record under another name is fine beside one under the name given.
        let same = RowMatch { routes: vec![upn], disagree: vec![], names: vec![("forename", true), ("surname", true)] };
        assert!(s.judge(&[(&other, None), (&same, None)]).is_ok());
        // A record carrying no forename is not judged on it.
        let bare = RowMatch { routes: vec![upn], disagree: vec![], names: vec![] };
        assert!(s.judge(&[(&bare, None)]).is_ok());
    }

    #[test]
    fn routes_that_find_records_must_meet_by_a_record_or_a_linked_person() {
        let s = subject(&ALL);
        let (by_nhs, by_names, by_both) =
            (row(&[NHS], &[]), row(&[Route::Combined], &[]), row(&[NHS, Route::Combined], &[]));
        assert!(s.judge(&[]).is_ok());
        // Apart: refused.
        let err = s.judge(&[(&by_nhs, None), (&by_names, None)]).unwrap_err();
        assert!(err.contains("find records of different people"), "{err}");
        assert!(s.judge(&[(&by_nhs, Some("P1")), (&by_names, Some("P2"))]).is_err());
        // Joined by one record, or by one person.
        assert!(s.judge(&[(&by_nhs, None), (&by_names, None), (&by_both, None)]).is_ok());
        assert!(s.judge(&[(&by_nhs, Some("P1")), (&by_names, Some("P1"))]).is_ok());
        // A route that finds nothing (the UPN here) discloses no one and is not judged.
        assert!(s.judge(&[(&by_both, None)]).is_ok());
        let by_upn = row(&[UPN], &[]);
        assert!(s.judge(&[(&by_both, Some("P1")), (&by_upn, Some("P2"))]).is_err());
    }
}
