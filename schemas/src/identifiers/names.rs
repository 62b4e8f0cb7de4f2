//! Names and address lines: the normal form that is hashed, and the looser match forms that
//! linkage keys and Bloom filters are made from.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Names and address lines, folded, that case systems write where nothing is known: no one's
/// name and no one's address. As tokens they would link every record that holds them.
const PLACEHOLDERS: &[&str] = &[
    "UNKNOWN",
    "UNK",
    "NOT KNOWN",
    "NK",
    "N K",
    "N A",
    "NOT APPLICABLE",
    "NOT AVAILABLE",
    "NULL",
    "NONE",
    "TBC",
    "TBA",
    "TBD",
    "NOT GIVEN",
    "NOT STATED",
    "NOT RECORDED",
    "NOT PROVIDED",
    "NOT SPECIFIED",
    "NO NAME",
    "NONAME",
    "REFUSED",
    "WITHHELD",
    "ANON",
    "ANONYMOUS",
    "PERSON UNKNOWN",
    "UNKNOWN PERSON",
    "UNKNOWN UNKNOWN",
    "XX",
    "XXX",
    "XXXX",
    "ZZZ",
    "NFA",
    "NO FIXED ABODE",
    "NO FIXED ADDRESS",
    "ADDRESS UNKNOWN",
    "UNKNOWN ADDRESS",
];

/// Whether `folded` (as [`fold`] gives it) stands for no value: one of the placeholders case
/// systems write, or, for a person's name (`person`), one without a letter (`0`, `01 01 1900`).
pub fn placeholder(folded: &str, person: bool) -> bool {
    PLACEHOLDERS.contains(&folded) || (person && !folded.chars().any(char::is_alphabetic))
}

/// Upper-cases and folds punctuation and spaces, so that `O'Neil-Smith`, `O NEIL  SMITH` and
/// `o'neil smith` agree.
///
/// Apostrophes and full stops vanish; every other run of non-alphanumeric characters becomes
/// one space; the result is trimmed.
///
/// ```
/// use tellonce_schemas::identifiers::names::fold;
/// assert_eq!(fold(" O'Neil-smith. "), "ONEIL SMITH");
/// ```
pub fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    fold_into(raw, &mut out);
    out
}

/// [`fold`], appending to `out` (which the caller clears and reuses, to spare an allocation).
pub fn fold_into(raw: &str, out: &mut String) {
    if raw.is_ascii() {
        // The common case, byte by byte: the same rules without Unicode case mapping.
        let mut pending_space = false;
        for b in raw.bytes() {
            if b.is_ascii_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(char::from(b.to_ascii_uppercase()));
            } else if b != b'\'' && b != b'.' && b != b'`' {
                pending_space = true;
            }
        }
        return;
    }
    let mut pending_space = false;
    // Composed first: `Siân` written as `a` and a combining circumflex (as macOS, Java and PDF
    // pipelines often hand it on) is the same name as with `â`, and a mark left apart is no
    // space between two words.
    for c in raw.nfc() {
        if c == '.' || is_apostrophe(c) {
            // Dropped outright: "O'Neil" and "ONeil" are the same surname. (Before the letters:
            // the modifier letter apostrophe is a letter to Unicode.)
        } else if c.is_alphanumeric() || (is_combining_mark(c) && !out.is_empty() && !pending_space) {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_uppercase());
        } else {
            pending_space = true;
        }
    }
}

/// The marks partners' systems write for an apostrophe: straight, typographic (left and right,
/// as Word turns one), a grave or an acute accent on its own, the modifier letter, a prime.
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | '`' | '´' | 'ʼ' | 'ʻ' | '′')
}

/// The match form of a folded name: transliterated to ASCII where the letter is a Latin one,
/// with every space removed, so that `JOSÉ MARÍA`, `JOSE MARIA` and `JOSEMARIA` agree.
///
/// Combining marks (U+0300–U+036F and the other combining blocks) are dropped, as after an NFKD
/// decomposition; the precomposed Latin letters of Latin-1 and Latin Extended-A (and the
/// Romanian `Ș`, `Ț`) lose their diacritics; `Ł`→`L`, `Ø`→`O`, `Đ`→`D`, `ß`→`SS`, `Æ`→`AE`,
/// `Œ`→`OE`, `Þ`→`TH`; full-width Latin letters and digits become ASCII. Any other non-ASCII
/// letter (Greek, Cyrillic, Arabic…) is kept as it is. ASCII letters are upper-cased, so the
/// function is safe on unfolded input too, though [`fold`] is expected first.
///
/// Every match key and Bloom filter of a name is made from this form.
///
/// ```
/// use tellonce_schemas::identifiers::names::match_form;
/// assert_eq!(match_form("JOSÉ MARÍA"), "JOSEMARIA");
/// assert_eq!(match_form("ŁUKASZ"), "LUKASZ");
/// assert_eq!(match_form("STRAẞE"), "STRASSE");
/// ```
pub fn match_form(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    match_form_into(folded, &mut out);
    out
}

/// [`match_form`], appending to `out`.
pub fn match_form_into(folded: &str, out: &mut String) {
    for c in folded.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_uppercase());
            }
            // ASCII spaces and anything else left after folding: dropped.
            continue;
        }
        for u in c.to_uppercase() {
            if u.is_ascii() {
                // ı → I, ſ → S, ﬁ → FI …
                if u.is_ascii_alphanumeric() {
                    out.push(u);
                }
            } else if is_combining(u) || u.is_whitespace() || is_modifier_apostrophe(u) {
                // Dropped: a stray diacritic, a non-ASCII space, ʼ or ʻ.
            } else if let Some(ascii) = latin_ascii(u) {
                out.push_str(ascii);
            } else if let Some(ascii) = full_width_ascii(u) {
                out.push(ascii);
            } else {
                out.push(u);
            }
        }
    }
}

/// The match form, borrowed when it equals its input (plain ASCII letters and digits, no
/// spaces: the common case), so the hot path allocates nothing.
pub fn match_form_cow(folded: &str) -> std::borrow::Cow<'_, str> {
    if folded.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        std::borrow::Cow::Borrowed(folded)
    } else {
        std::borrow::Cow::Owned(match_form(folded))
    }
}

/// Surname particles that are never used alone as a surname variant by [`match_parts`]:
/// `DE LA CRUZ` gives `DELACRUZ` and `CRUZ`, never `DE` or `LA`, which would bring together
/// unrelated people who share only a particle.
const PARTICLES: &[&str] = &[
    "AL", "BEN", "BIN", "BINT", "DA", "DAL", "DAS", "DE", "DEL", "DELA", "DELLA", "DEN", "DER", "DES", "DI", "DO",
    "DOS", "DU", "EL", "LA", "LE", "LES", "VAN", "VON", "Y",
];

/// The surname variants of a folded surname, in match form: the whole name first, then, when
/// it has several space-separated parts (double-barrelled or compound surnames, which partners
/// often record in part), each part. Parts shorter than two letters and particles such as `DE`,
/// `VAN` or `AL` are left out; duplicates are removed. Empty when the name has no letters.
///
/// `SMITH JONES` (folded from `Smith-Jones`) gives `SMITHJONES`, `SMITH` and `JONES`, so that a
/// record under `Jones` shares a key with it.
///
/// ```
/// use tellonce_schemas::identifiers::names::match_parts;
/// assert_eq!(match_parts("SMITH JONES"), ["SMITHJONES", "SMITH", "JONES"]);
/// assert_eq!(match_parts("DE LA CRUZ"), ["DELACRUZ", "CRUZ"]);
/// assert_eq!(match_parts("O NEIL"), ["ONEIL", "NEIL"]);
/// ```
pub fn match_parts(folded: &str) -> Vec<String> {
    match_parts_cow(folded).into_iter().map(std::borrow::Cow::into_owned).collect()
}

/// [`match_parts`], borrowing from `folded` where a part is already in match form.
pub fn match_parts_cow(folded: &str) -> Vec<std::borrow::Cow<'_, str>> {
    let full = match_form_cow(folded);
    if full.is_empty() {
        return Vec::new();
    }
    let mut out = vec![full];
    if !folded.contains(char::is_whitespace) {
        return out;
    }
    for part in folded.split(char::is_whitespace) {
        let part = match_form_cow(part);
        if part.chars().count() < 2 || PARTICLES.contains(&part.as_ref()) {
            continue;
        }
        if !out.contains(&part) {
            out.push(part);
        }
    }
    out
}

/// The initial of a name in match form: its first character (`None` when it is empty).
pub fn initial(match_form: &str) -> Option<char> {
    match_form.chars().next()
}

/// Whether `c` is a combining mark (what an NFKD decomposition splits off a precomposed letter).
fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// ʼ (U+02BC) and ʻ (U+02BB), apostrophes that Unicode counts as letters.
fn is_modifier_apostrophe(c: char) -> bool {
    matches!(c, '\u{02BC}' | '\u{02BB}')
}

/// A full-width Latin letter or digit (U+FF10–U+FF5A) as ASCII, upper case.
fn full_width_ascii(c: char) -> Option<char> {
    match c as u32 {
        0xFF10..=0xFF19 => char::from_u32(c as u32 - 0xFF10 + u32::from(b'0')),
        0xFF21..=0xFF3A => char::from_u32(c as u32 - 0xFF21 + u32::from(b'A')),
        0xFF41..=0xFF5A => char::from_u32(c as u32 - 0xFF41 + u32::from(b'A')),
        _ => None,
    }
}

/// The ASCII form of an upper-case (or caseless) Latin letter with a diacritic or a ligature,
/// for the letters of Latin-1, Latin Extended-A and the few of Latin Extended-B used in
/// European names.
fn latin_ascii(c: char) -> Option<&'static str> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' | 'Ǎ' | 'Ȁ' | 'Ȃ' => "A",
        'Æ' | 'Ǽ' | 'Ǣ' => "AE",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'Ð' | 'Ď' | 'Đ' => "D",
        'Ǆ' | 'ǅ' => "DZ",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' | 'Ȅ' | 'Ȇ' => "E",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' | 'Ǧ' => "G",
        'Ĥ' | 'Ħ' => "H",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' | 'Ǐ' | 'Ȉ' | 'Ȋ' => "I",
        'Ĳ' => "IJ",
        'Ĵ' => "J",
        'Ķ' | 'ĸ' | 'Ǩ' => "K",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'Ǉ' | 'ǈ' => "LJ",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' | 'Ŋ' => "N",
        'Ǌ' | 'ǋ' => "NJ",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' | 'Ơ' | 'Ǒ' | 'Ǿ' | 'Ȍ' | 'Ȏ' => "O",
        'Œ' => "OE",
        'Ŕ' | 'Ŗ' | 'Ř' | 'Ȑ' | 'Ȓ' => "R",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "S",
        'ß' | 'ẞ' => "SS",
        'Ţ' | 'Ť' | 'Ŧ' | 'Ț' => "T",
        'Þ' => "TH",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' | 'Ư' | 'Ǔ' | 'Ǖ' | 'Ǘ' | 'Ǚ' | 'Ǜ' | 'Ȕ' | 'Ȗ' => {
            "U"
        }
        'Ŵ' => "W",
        'Ý' | 'Ŷ' | 'Ÿ' | 'Ȳ' => "Y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_folds_alike_however_its_accents_and_apostrophes_are_written() {
        // Composed and decomposed (NFD) forms, and the apostrophes partners' systems write.
        assert_eq!(fold("Si\u{e2}n"), fold("Sia\u{302}n"));
        assert_eq!(fold("Zo\u{eb}"), fold("Zoe\u{308}"));
        assert_eq!(fold("Ren\u{e9}e"), fold("Rene\u{301}e"));
        assert_eq!(fold("Sia\u{302}n"), "SI\u{c2}N");
        for written in ["O\u{2018}Brien", "O`Brien", "O\u{b4}Brien", "O\u{2bc}Brien", "O\u{2019}Brien"] {
            assert_eq!(fold(written), "OBRIEN", "{written}");
        }
        // A mark with no letter before it is no letter.
        assert_eq!(fold("\u{301}Ann"), "ANN");
    }

    #[test]
    fn punctuation_and_spacing_fold_to_one_form() {
        assert_eq!(fold("o'neil   smith"), fold("O’NEIL-SMITH"));
        assert_eq!(fold("  12, Acacia Avenue "), "12 ACACIA AVENUE");
        assert_eq!(fold("--"), "");
        assert_eq!(fold("zoë"), "ZOË");
    }

    #[test]
    fn match_forms_drop_accents_and_spaces() {
        assert_eq!(match_form("JOSÉ MARÍA"), "JOSEMARIA");
        assert_eq!(match_form(&fold("José-María")), "JOSEMARIA");
        assert_eq!(match_form("ZOË"), "ZOE");
        assert_eq!(match_form("ŁUCJA"), "LUCJA");
        assert_eq!(match_form("MAŁGORZATA"), "MALGORZATA");
        assert_eq!(match_form("BJØRN"), "BJORN");
        assert_eq!(match_form("ĐORĐE"), "DORDE");
        assert_eq!(match_form("STRAẞE"), "STRASSE");
        assert_eq!(match_form("straße"), "STRASSE");
        assert_eq!(match_form("ÆLFRED"), "AELFRED");
        assert_eq!(match_form("ŒDIPE"), "OEDIPE");
        assert_eq!(match_form("ȘTEFAN"), "STEFAN");
        assert_eq!(match_form("ŞTEFAN"), "STEFAN");
        assert_eq!(match_form("CONCEIÇÃO"), "CONCEICAO");
        assert_eq!(match_form("GONÇALO"), "GONCALO");
        assert_eq!(match_form("ÞÓRA"), "THORA");
        assert_eq!(match_form("ＡＮＮ"), "ANN");
        // Decomposed input: the combining marks go.
        assert_eq!(match_form("JOSE\u{301}"), "JOSE");
        assert_eq!(match_form("RENE\u{301}E"), "RENEE");
        // Other scripts are kept.
        assert_eq!(match_form("ОЛЕГ ИВАНОВ"), "ОЛЕГИВАНОВ");
        assert_eq!(match_form("MOHAMMED"), "MOHAMMED");
        assert_eq!(match_form(""), "");
        assert_eq!(match_form_cow("SMITH"), std::borrow::Cow::Borrowed("SMITH"));
        assert_eq!(match_form_cow("SMITH JONES"), "SMITHJONES");
    }

    #[test]
    fn double_barrelled_surnames_give_each_part() {
        assert_eq!(match_parts(&fold("Smith-Jones")), ["SMITHJONES", "SMITH", "JONES"]);
        assert_eq!(match_parts("JONES"), ["JONES"]);
        assert_eq!(match_parts("LÓPEZ GARCÍA"), ["LOPEZGARCIA", "LOPEZ", "GARCIA"]);
        assert_eq!(match_parts("VAN DER BERG"), ["VANDERBERG", "BERG"]);
        assert_eq!(match_parts("AL HASSAN"), ["ALHASSAN", "HASSAN"]);
        // A one-letter part is skipped; a repeated part appears once.
        assert_eq!(match_parts("J SMITH SMITH"), ["JSMITHSMITH", "SMITH"]);
        assert!(match_parts("").is_empty());
        assert_eq!(initial("JOSEMARIA"), Some('J'));
        assert_eq!(initial(""), None);
    }
}
