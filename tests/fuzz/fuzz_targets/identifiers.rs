//! Every identifier check and normal form on the same text; a normal form must be accepted again
//! unchanged (it is what is hashed), and a valid date must survive formatting.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tellonce_schemas::identifiers::{dates, names, nhs, nicknames, phonetic, pnc, postcode, upn, uprn};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };

    if let Ok(n) = nhs::normalise(raw) {
        assert_eq!(nhs::normalise(&n).as_deref(), Ok(&*n), "NHS number normal form not stable");
    }
    if let Ok(n) = upn::normalise(raw) {
        assert_eq!(upn::normalise(&n).as_deref(), Ok(&*n), "UPN normal form not stable");
    }
    if let Ok(n) = uprn::normalise(raw) {
        assert_eq!(uprn::normalise(&n).as_deref(), Ok(&*n), "UPRN normal form not stable");
    }
    if let Ok(n) = pnc::normalise(raw) {
        assert_eq!(pnc::normalise(&n).as_deref(), Ok(&*n), "PNC ID normal form not stable");
    }
    // A pseudo-postcode (ZZ99 3VZ, NFA, NK) is refused under its own rule, never normalised.
    if let Some(rule) = postcode::pseudo(raw) {
        assert_eq!(postcode::normalise(raw), Err(rule), "a pseudo-postcode was normalised");
    }
    if let Ok(n) = postcode::normalise(raw) {
        assert_eq!(postcode::normalise(&n).as_deref(), Ok(&*n), "postcode normal form not stable");
        let _ = postcode::outward(&n);
    }
    if let Ok(d) = dates::parse_value(raw) {
        assert_eq!(dates::parse(&dates::format(d)), Ok(d), "a record's date does not survive formatting");
        let basic = dates::format(d).replace('-', "");
        assert_eq!(dates::parse_value(&basic), Ok(d), "a record's date does not survive the basic form");
    }
    if let Ok(d) = dates::parse(raw) {
        assert_eq!(dates::parse_value(raw), Ok(d), "a record reads every configuration date alike");
        assert_eq!(dates::parse(&dates::format(d)), Ok(d), "date does not survive formatting");
        let _ = dates::year_month(d);
    }

    let folded = names::fold(raw);
    let form = names::match_form(&folded);
    let _ = names::match_parts(&folded);
    let _ = names::initial(&form);
    let _ = phonetic::soundex(&form);
    let _ = nicknames::lookup(&form);
    let _ = nicknames::classes(&form);
});
