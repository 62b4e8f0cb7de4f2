//! The identifiers people are given: NHS numbers from the 999 range, UPNs and PNC numbers, each
//! handed out once.

use std::collections::HashMap;

use tellonce_schemas::identifiers::{nhs, pnc, upn};

/// The West Sussex local authority number, the first three digits of a UPN's body.
const LA_CODE: u32 = 938;

/// Hands out NHS numbers from the 999 range (said never to be issued), in a seed-dependent
/// order, each once.
pub(super) struct NhsNumbers {
    i: u64,
    offset: u64,
}

impl NhsNumbers {
    /// Numbers starting from a seed-dependent `offset` in `0..1_000_000`.
    pub(super) fn new(offset: u64) -> Self {
        NhsNumbers { i: 0, offset }
    }

    /// The next number, or `None` once the range is used up.
    pub(super) fn next(&mut self) -> Option<u64> {
        while self.i < 1_000_000 {
            let body = (self.i * 486_293 + self.offset) % 1_000_000;
            self.i += 1;
            let nine = 999_000_000 + body;
            let digits = nine.to_string();
            if let Some(c) = nhs::check_digit(digits.as_bytes()) {
                return Some(nine * 10 + u64::from(c));
            }
        }
        None
    }
}

/// Hands out UPNs: LA 938, the school's establishment number, the year of entry, a serial.
#[derive(Default)]
pub(super) struct Upns {
    next_serial: HashMap<(u16, u32), u16>,
}

impl Upns {
    /// The next UPN for a child who entered `school` in `year`; when the school's serials for the
    /// year run out, the establishment number moves on by 1000.
    pub(super) fn next(&mut self, school: u16, year: u32) -> Option<[u8; 13]> {
        let mut est = school;
        loop {
            let serial = self.next_serial.entry((est, year)).or_insert(0);
            if *serial < 1000 {
                let body = format!("{LA_CODE}{est:04}{:02}{:03}", year % 100, *serial);
                *serial += 1;
                let mut out = [0u8; 13];
                out[1..].copy_from_slice(body.as_bytes());
                out[0] = upn::check_letter(&out[1..])?;
                return Some(out);
            }
            est = est.checked_add(1000).filter(|&e| e <= 9999)?;
        }
    }
}

/// Hands out PNC serial numbers, each once.
pub(super) struct PncSerials {
    i: u64,
    offset: u64,
}

impl PncSerials {
    /// Serials starting from a seed-dependent `offset` in `0..10_000_000`.
    pub(super) fn new(offset: u64) -> Self {
        PncSerials { i: 0, offset }
    }

    /// The next PNC number issued in `year`.
    pub(super) fn next(&mut self, year: u32) -> (u32, u64) {
        let mut serial = (self.i * 7_368_787 + self.offset) % 10_000_000;
        self.i += 1;
        // 0000000, 1111111 … are placeholders the checks refuse (`pnc_id.placeholder`).
        while serial.is_multiple_of(1_111_111) {
            serial = (self.i * 7_368_787 + self.offset) % 10_000_000;
            self.i += 1;
        }
        debug_assert!(pnc::check_character(year, serial).is_ascii_uppercase());
        (year, serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tellonce_schemas::Kind;

    #[test]
    fn identifiers_are_valid_and_distinct() {
        let mut nhs = NhsNumbers::new(12_345);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let n = nhs.next().unwrap();
            assert!(Kind::NhsNumber.check(&n.to_string()).is_ok(), "{n}");
            assert!(n.to_string().starts_with("999"));
            assert!(seen.insert(n));
        }
        let mut upns = Upns::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..3000u32 {
            let u = upns.next(2001, 2015 + i % 2).unwrap();
            let s = std::str::from_utf8(&u).unwrap().to_owned();
            assert!(Kind::Upn.check(&s).is_ok(), "{s}");
            assert_eq!(&s[1..4], "938");
            assert!(seen.insert(s));
        }
    }
}
