//! Synthetic geography: small areas with IMD deciles in the six West Sussex districts, postcodes
//! with real outward codes, streets and addresses with UPRNs.

use std::collections::HashSet;

use super::names::{HOUSE_NAMES, STREETS};
use super::rng::Rng;

/// One district or borough: its code, share of the county's children, outward codes and how
/// deprived its small areas tend to be.
pub(crate) struct District {
    /// The code the schemas use.
    pub code: &'static str,
    /// Share of the county's population, percent.
    pub weight: u32,
    /// Real outward codes of the district.
    pub outwards: &'static [&'static str],
    /// The outward codes of its more deprived towns, used for its more deprived small areas.
    pub deprived_outwards: &'static [&'static str],
    /// Mean deprivation score of its small areas (0 = most deprived, 1 = least).
    base: f64,
    /// How widely its small areas spread around that mean.
    spread: f64,
    /// Whether its population is more ethnically diverse than the county's (Crawley).
    pub diverse: bool,
    /// Whether it is largely rural (house names are more common).
    pub rural: bool,
}

/// The six districts, in the order of the district feed's `district_code` codes.
pub(crate) const DISTRICTS: [District; 6] = [
    District {
        code: "ADUR_WORTHING",
        weight: 19,
        outwards: &["BN11", "BN12", "BN13", "BN14", "BN15", "BN43"],
        deprived_outwards: &["BN11", "BN15", "BN43"],
        base: 0.46,
        spread: 0.8,
        diverse: false,
        rural: false,
    },
    District {
        code: "ARUN",
        weight: 17,
        outwards: &["BN16", "BN17", "BN18", "PO21", "PO22"],
        deprived_outwards: &["BN17", "PO21", "PO22"],
        base: 0.46,
        spread: 0.9,
        diverse: false,
        rural: false,
    },
    District {
        code: "CHICHESTER",
        weight: 14,
        outwards: &["PO18", "PO19", "PO20"],
        deprived_outwards: &["PO19"],
        base: 0.64,
        spread: 0.7,
        diverse: false,
        rural: true,
    },
    District {
        code: "CRAWLEY",
        weight: 14,
        outwards: &["RH10", "RH11"],
        deprived_outwards: &["RH10", "RH11"],
        base: 0.30,
        spread: 0.55,
        diverse: true,
        rural: false,
    },
    District {
        code: "HORSHAM",
        weight: 17,
        outwards: &["RH12", "RH13", "RH20"],
        deprived_outwards: &["RH12"],
        base: 0.74,
        spread: 0.5,
        diverse: false,
        rural: true,
    },
    District {
        code: "MID_SUSSEX",
        weight: 19,
        outwards: &["RH15", "RH16", "RH17", "RH19"],
        deprived_outwards: &["RH15", "RH19"],
        base: 0.77,
        spread: 0.45,
        diverse: false,
        rural: true,
    },
];

/// Share of the county's small areas in each IMD decile (percent, decile 1 first): West Sussex is
/// less deprived than England, so the low deciles are rare, but every decile occurs.
const DECILE_WEIGHTS: [u32; 10] = [2, 4, 6, 8, 10, 12, 14, 15, 15, 14];

/// Letters allowed in an inward code.
const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// A synthetic small area (LSOA-like).
pub(crate) struct Area {
    /// `SYN-E01-nnnnnn`: clearly not a real GSS code.
    pub code: String,
    /// Index into [`DISTRICTS`].
    pub district: u8,
    /// IMD decile, 1 = most deprived.
    pub decile: u8,
    /// Its postcodes (indices into [`Geo::postcodes`]).
    pub postcodes: Vec<u32>,
    /// The DfE establishment number of its primary school, for UPNs.
    pub school: u16,
}

/// A postcode and the streets in it.
pub(crate) struct Postcode {
    /// Normalised, `RH10 1AB`.
    pub text: String,
    /// Its small area.
    pub area: u32,
    /// Its streets (indices into [`STREETS`]).
    pub streets: Vec<u16>,
}

/// The synthetic geography.
pub(crate) struct Geo {
    pub areas: Vec<Area>,
    pub postcodes: Vec<Postcode>,
    /// Every postcode in use, for typo injection to avoid or land on.
    pub known: HashSet<String>,
    /// The areas of each district.
    pub by_district: Vec<Vec<u32>>,
}

impl Geo {
    /// Builds `n_areas` small areas (at least one per district) with their postcodes.
    pub(crate) fn build(n_areas: usize, rng: &mut Rng) -> Geo {
        let n_areas = n_areas.max(DISTRICTS.len());
        // Areas per district by largest remainder on the population shares.
        let total: u32 = DISTRICTS.iter().map(|d| d.weight).sum();
        let mut counts: Vec<usize> =
            DISTRICTS.iter().map(|d| n_areas * d.weight as usize / total as usize).map(|c| c.max(1)).collect();
        let mut order: Vec<usize> = (0..DISTRICTS.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse((n_areas * DISTRICTS[i].weight as usize) % total as usize));
        let mut k = 0;
        while counts.iter().sum::<usize>() < n_areas {
            counts[order[k % order.len()]] += 1;
            k += 1;
        }
        // A deprivation score per area around its district's mean, then a county-wide ranking
        // mapped onto the decile shares: the most deprived area always lands in decile 1.
        let mut district_of = Vec::with_capacity(n_areas);
        let mut score = Vec::with_capacity(n_areas);
        for (d, &c) in counts.iter().enumerate() {
            for _ in 0..c {
                district_of.push(d as u8);
                let dd = &DISTRICTS[d];
                score.push(dd.base + dd.spread * (rng.bell() - 0.5));
            }
        }
        let n = district_of.len();
        let mut rank: Vec<usize> = (0..n).collect();
        rank.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
        let mut decile = vec![10u8; n];
        for (pos, &area) in rank.iter().enumerate() {
            let q = (pos as f64 + 0.5) / n as f64 * 100.0;
            let mut acc = 0.0;
            for (d, &w) in DECILE_WEIGHTS.iter().enumerate() {
                acc += f64::from(w);
                if q < acc {
                    decile[area] = d as u8 + 1;
                    break;
                }
            }
        }
        let mut geo = Geo {
            areas: Vec::with_capacity(n),
            postcodes: Vec::new(),
            known: HashSet::new(),
            by_district: vec![Vec::new(); DISTRICTS.len()],
        };
        for i in 0..n {
            let d = &DISTRICTS[district_of[i] as usize];
            let outwards = if decile[i] <= 4 { d.deprived_outwards } else { d.outwards };
            let outward = *rng.pick(outwards);
            let sector = rng.below(10) as u8;
            let mut postcodes = Vec::new();
            for _ in 0..4 + rng.below(5) {
                let Some(text) = geo.fresh_postcode(outward, sector, rng) else { continue };
                let mut streets: Vec<u16> = (0..1 + rng.below(3)).map(|_| rng.index(STREETS.len()) as u16).collect();
                streets.sort_unstable();
                streets.dedup();
                postcodes.push(geo.postcodes.len() as u32);
                geo.postcodes.push(Postcode { text, area: i as u32, streets });
            }
            geo.by_district[district_of[i] as usize].push(i as u32);
            geo.areas.push(Area {
                code: format!("SYN-E01-{:06}", i + 1),
                district: district_of[i],
                decile: decile[i],
                postcodes,
                school: 2000 + (i % 1000) as u16,
            });
        }
        geo
    }

    /// A postcode in the sector not used before (`None` if the sector and its neighbours are full).
    fn fresh_postcode(&mut self, outward: &str, sector: u8, rng: &mut Rng) -> Option<String> {
        for attempt in 0..400u32 {
            let digit = (u32::from(sector) + attempt / 40) % 10;
            let a = char::from(*rng.pick(INWARD_LETTERS));
            let b = char::from(*rng.pick(INWARD_LETTERS));
            let text = format!("{outward} {digit}{a}{b}");
            if self.known.insert(text.clone()) {
                return Some(text);
            }
        }
        None
    }

    /// The district index of a postcode.
    pub(crate) fn district_of(&self, postcode: u32) -> u8 {
        self.areas[self.postcodes[postcode as usize].area as usize].district
    }

    /// The IMD decile of a postcode's small area.
    pub(crate) fn decile_of(&self, postcode: u32) -> u8 {
        self.areas[self.postcodes[postcode as usize].area as usize].decile
    }

    /// A random postcode of a district.
    pub(crate) fn postcode_in(&self, district: u8, rng: &mut Rng) -> u32 {
        let areas = &self.by_district[district as usize];
        loop {
            let area = &self.areas[*rng.pick(areas) as usize];
            if !area.postcodes.is_empty() {
                return *rng.pick(&area.postcodes);
            }
        }
    }

    /// A postcode one keystroke away from `text` (a changed inward letter or digit): a typo that
    /// still passes the format check. Returns the typo and whether it is a postcode already in use.
    pub(crate) fn postcode_typo(&self, text: &str, rng: &mut Rng) -> (String, bool) {
        let mut b = text.as_bytes().to_vec();
        let n = b.len();
        for _ in 0..16 {
            let pos = n - 1 - rng.index(3);
            let old = b[pos];
            b[pos] = if pos == n - 3 { b'0' + rng.below(10) as u8 } else { *rng.pick(INWARD_LETTERS) };
            if b[pos] != old {
                break;
            }
        }
        let typo = String::from_utf8_lossy(&b).into_owned();
        let known = self.known.contains(&typo);
        (typo, known)
    }
}

/// One address.
#[derive(Clone, Debug)]
pub(crate) struct Address {
    /// The first line: `14 Acacia Avenue`, `Flat 2, 14 Acacia Avenue`, `Rose Cottage, 3 Mill Lane`.
    pub line1: String,
    /// Index into [`Geo::postcodes`].
    pub postcode: u32,
    /// Unique Property Reference Number.
    pub uprn: u64,
}

/// Hands out unique addresses: house numbers per street rise, and every address a new UPRN.
pub(crate) struct AddressBook {
    next_number: Vec<u32>,
    count: u64,
}

impl AddressBook {
    /// An empty book for a geography.
    pub(crate) fn new(geo: &Geo) -> Self {
        AddressBook { next_number: vec![0; geo.postcodes.len() * 3], count: 0 }
    }

    /// A new address in a postcode. Flats are more common in deprived areas, house names in
    /// rural districts.
    pub(crate) fn allocate(&mut self, geo: &Geo, postcode: u32, rng: &mut Rng) -> Address {
        let pc = &geo.postcodes[postcode as usize];
        let slot = rng.index(pc.streets.len());
        let street = STREETS[pc.streets[slot] as usize];
        let counter = &mut self.next_number[postcode as usize * 3 + slot];
        *counter += 1 + rng.below(3) as u32;
        let number = *counter;
        let decile = geo.decile_of(postcode);
        let rural = DISTRICTS[geo.district_of(postcode) as usize].rural;
        let line1 = if rng.chance(0.04 + 0.03 * f64::from(10 - decile)) {
            format!("Flat {}, {number} {street}", 1 + rng.below(12))
        } else if rural && rng.chance(0.05) {
            format!("{}, {number} {street}", rng.pick(HOUSE_NAMES))
        } else {
            format!("{number} {street}")
        };
        // Two UPRN styles, 12 and 11 digits; the index keeps every UPRN distinct.
        let i = self.count;
        self.count += 1;
        let uprn = if i.is_multiple_of(2) {
            100_061_000_000 + (i / 2) * 37 + rng.below(37)
        } else {
            10_093_000_000 + (i / 2) * 29 + rng.below(29)
        };
        Address { line1, postcode, uprn }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tellonce_schemas::Kind;

    /// The codes of the district feed's `district_code` column.
    pub(crate) fn district_codes() -> Vec<&'static str> {
        let feed = tellonce_schemas::feed::latest("district").expect("the district feed");
        match feed.column("district_code").map(|c| c.kind) {
            Some(Kind::Code(codes)) => codes.to_vec(),
            other => panic!("district_code is {other:?}"),
        }
    }

    #[test]
    fn the_districts_match_the_schema_list_and_every_decile_occurs() {
        let codes: Vec<_> = DISTRICTS.iter().map(|d| d.code).collect();
        assert_eq!(codes, district_codes());
        let mut rng = Rng::new(1);
        let geo = Geo::build(30, &mut rng);
        assert_eq!(geo.areas.len(), 30);
        for d in 1..=10 {
            assert!(geo.areas.iter().any(|a| a.decile == d), "decile {d}");
        }
        for p in &geo.postcodes {
            assert_eq!(Kind::Postcode.check(&p.text).map(|_| ()), Ok(()), "{}", p.text);
        }
        let crawley: Vec<u8> = geo.areas.iter().filter(|a| a.district == 3).map(|a| a.decile).collect();
        let mid: Vec<u8> = geo.areas.iter().filter(|a| a.district == 5).map(|a| a.decile).collect();
        let mean = |v: &[u8]| v.iter().map(|&d| f64::from(d)).sum::<f64>() / v.len() as f64;
        assert!(mean(&crawley) < mean(&mid));
    }

    #[test]
    fn addresses_and_uprns_are_unique_and_valid() {
        let mut rng = Rng::new(2);
        let geo = Geo::build(40, &mut rng);
        let mut book = AddressBook::new(&geo);
        let mut seen = HashSet::new();
        let mut uprns = HashSet::new();
        for i in 0..5000u32 {
            let a = book.allocate(&geo, i % geo.postcodes.len() as u32, &mut rng);
            assert!(Kind::Uprn.check(&a.uprn.to_string()).is_ok());
            assert!(Kind::AddressLine.check(&a.line1).is_ok());
            assert!(seen.insert((a.line1.clone(), a.postcode)), "{}", a.line1);
            assert!(uprns.insert(a.uprn));
        }
    }

    #[test]
    fn a_postcode_typo_is_still_a_valid_postcode() {
        let mut rng = Rng::new(3);
        let geo = Geo::build(30, &mut rng);
        for p in geo.postcodes.iter().take(50) {
            let (t, _) = geo.postcode_typo(&p.text, &mut rng);
            assert_ne!(t, p.text);
            assert!(Kind::Postcode.check(&t).is_ok(), "{t}");
        }
    }
}
