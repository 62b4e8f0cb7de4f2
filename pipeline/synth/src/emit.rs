//! How one source sees a person (with the errors it injects), and the emitter that writes a
//! feed's rows, its deliberate duplicates and invalid rows, and their ground truth.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use tellonce_schemas::identifiers::dates::{civil_from_days, days_from_civil};
use tellonce_schemas::{FeedSchema, Rule};

use super::SynthError;
use super::geo::{Address, Geo};
use super::names::{self, ETHNICITIES, NOT_STATED};
use super::out::{FeedSink, RowBuf, TruthSink, push_broken, push_padded};
use super::population::{Member, Population};
use super::rng::Rng;
use super::typos;

pub(crate) use super::errors::{ERROR_NAMES, err};
pub(crate) use super::specs::{FEEDS, FeedSpec, schema_of};

/// A person as one source records them.
pub(crate) struct Identity<'p> {
    pub forename: Cow<'p, str>,
    pub surname: Cow<'p, str>,
    pub dob: Option<i32>,
    pub nhs: bool,
    pub ethnicity: u8,
    pub address: &'p Address,
    pub postcode: Cow<'p, str>,
    pub errors: u32,
    /// Whether the source also holds a second record of this person.
    pub duplicated: bool,
}

/// The date with day and month swapped, where that is a different valid date.
pub(crate) fn swap_day_month(dob: i32) -> Option<i32> {
    let (y, m, d) = civil_from_days(dob);
    if d > 12 || d == m {
        return None;
    }
    let swapped = days_from_civil(y, d, m);
    (civil_from_days(swapped) == (y, d, m)).then_some(swapped)
}

/// The parts of a hyphenated or double-barrelled surname.
fn surname_parts(s: &str) -> Option<(&str, &str)> {
    s.split_once('-').or_else(|| s.split_once(' '))
}

/// The column handles of the person block, where the feed has them.
struct PersonCols {
    record_id: usize,
    nhs: Option<usize>,
    upn: Option<usize>,
    pnc: Option<usize>,
    forename: Option<usize>,
    surname: Option<usize>,
    dob: Option<usize>,
    sex: Option<usize>,
    ethnicity: Option<usize>,
    address: Option<usize>,
    postcode: Option<usize>,
    uprn: Option<usize>,
}

/// Writes one feed's rows and their truth.
pub(crate) struct Emitter<'a> {
    seed: u64,
    pub spec: &'static FeedSpec,
    pub schema: &'static FeedSchema,
    pub pop: &'a Population,
    geo: &'a Geo,
    /// The row being built: callers set the event columns, then call [`Emitter::emit`].
    pub row: RowBuf,
    cols: PersonCols,
    sink: FeedSink,
    truth: &'a mut TruthSink,
    /// The feed's own stream for event details, in emission order.
    pub rng: Rng,
    count: u64,
    next_invalid: u64,
    invalid_rules: Vec<(Rule, usize)>,
    seen: Vec<bool>,
    /// Typo postcodes not otherwise in use, with their small area, for the lookup.
    extra_postcodes: &'a mut BTreeMap<String, u32>,
    text: String,
    ref_mult: u64,
    ref_offset: u64,
    model: super::harsh::ErrorModel,
}

impl<'a> Emitter<'a> {
    /// Opens the feed's file under `dir`.
    pub(crate) fn new(
        seed: u64,
        spec: &'static FeedSpec,
        pop: &'a Population,
        geo: &'a Geo,
        dir: &Path,
        truth: &'a mut TruthSink,
        extra_postcodes: &'a mut BTreeMap<String, u32>,
    ) -> Result<Self, SynthError> {
        let schema = schema_of(spec.name).ok_or_else(|| SynthError::Io {
            path: dir.join(spec.name),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, format!("synth: no schema for {}", spec.name)),
        })?;
        let path = dir.join(format!("{}.{}", spec.name, spec.format.as_str()));
        let sink = FeedSink::create(&path, schema, spec.format, spec.nulls)?;
        let ix = |n: &str| schema.index_of(n);
        let cols = PersonCols {
            record_id: super::out::column(schema, "record_id")?,
            nhs: ix("nhs_number"),
            upn: ix("upn"),
            pnc: ix("pnc_id"),
            forename: ix("forename"),
            surname: ix("surname"),
            dob: ix("date_of_birth"),
            sex: ix("sex"),
            ethnicity: ix("ethnicity"),
            address: ix("address_line_1"),
            postcode: ix("postcode"),
            uprn: ix("uprn"),
        };
        let mut invalid_rules = Vec::new();
        for (rule, name) in [
            (Rule::NhsNumberCheckDigit, "nhs_number"),
            (Rule::UpnCheckLetter, "upn"),
            (Rule::PncCheckCharacter, "pnc_id"),
            (Rule::DateCalendar, schema.event_date),
            (Rule::CodeUnknown, spec.code_column),
            (Rule::PostcodeFormat, "postcode"),
            (Rule::UprnFormat, "uprn"),
            (Rule::Required, "surname"),
        ] {
            invalid_rules.push((
                rule,
                super::out::column(schema, name).or_else(|e| match name {
                    "nhs_number" | "upn" | "pnc_id" | "uprn" | "postcode" => Ok(usize::MAX),
                    _ => Err(e),
                })?,
            ));
        }
        invalid_rules.retain(|&(_, c)| c != usize::MAX);
        let mut rng = Rng::derive(seed, &[0x524F_5753, spec.key]);
        let next_invalid = 2 + rng.below(40);
        let ref_offset = rng.below(10_000_000);
        Ok(Emitter {
            seed,
            spec,
            schema,
            pop,
            geo,
            row: RowBuf::new(schema),
            cols,
            sink,
            truth,
            rng,
            count: 0,
            next_invalid,
            invalid_rules,
            seen: vec![false; pop.persons.len()],
            extra_postcodes,
            text: String::with_capacity(64),
            ref_mult: 7_654_321,
            ref_offset,
            model: super::harsh::ErrorModel::Default,
        })
    }

    /// The emitter with the errors of `model`.
    pub(crate) fn with_errors(mut self, model: super::harsh::ErrorModel) -> Self {
        self.model = model;
        self
    }

    /// The column called `name` (an error if the schema lacks it).
    pub(crate) fn col(&self, name: &str) -> Result<usize, SynthError> {
        super::out::column(self.schema, name)
    }

    /// The source's own reference for a family: a fixed-width number that reveals nothing of the
    /// true family id.
    pub(crate) fn family_ref(&self, prefix: &str, family: u32) -> String {
        let n = (u64::from(family) * self.ref_mult + self.ref_offset) % 10_000_000;
        let mut s = String::with_capacity(prefix.len() + 7);
        s.push_str(prefix);
        push_padded(&mut s, n, 7);
        s
    }

    /// The district index of a postcode.
    pub(crate) fn district_of(&self, postcode: u32) -> u8 {
        self.geo.district_of(postcode)
    }

    /// How this source records person `p`.
    fn identity(&self, p: u32) -> Identity<'a> {
        let pop: &'a Population = self.pop;
        let person = pop.person(p);
        let fam = &pop.families[person.family as usize];
        let r = &self.spec.rates;
        let mut rng = Rng::derive(self.seed, &[0x4944, self.spec.key, u64::from(p)]);
        let mut errors = 0u32;
        let mut forename: Cow<'a, str> = Cow::Borrowed(person.forename);
        if rng.chance(r.nickname)
            && let Some(nicks) = names::nicknames(person.forename)
        {
            forename = Cow::Borrowed(*rng.pick(nicks));
            errors |= err::NICKNAME;
        }
        if rng.chance(r.typo_forename)
            && let Some(t) = typos::typo(&forename, &mut rng)
        {
            forename = Cow::Owned(t);
            errors |= err::TYPO_FORENAME;
        }
        let mut surname: Cow<'a, str> = Cow::Borrowed(person.surname.as_str());
        if rng.chance(r.surname_part)
            && let Some((a, b)) = surname_parts(&person.surname)
        {
            surname = Cow::Borrowed(if rng.chance(0.5) { a } else { b });
            errors |= err::SURNAME_PART;
        }
        if rng.chance(r.typo_surname)
            && let Some(t) = typos::typo(&surname, &mut rng)
        {
            surname = Cow::Owned(t);
            errors |= err::TYPO_SURNAME;
        }
        let mut dob = Some(person.dob);
        if rng.chance(r.dob_missing) {
            dob = None;
            errors |= err::DOB_MISSING;
        } else if rng.chance(r.dob_swap)
            && let Some(s) = swap_day_month(person.dob)
        {
            dob = Some(s);
            errors |= err::DOB_SWAP;
        }
        let mut nhs = rng.chance(r.nhs_held);
        if nhs && rng.chance(r.nhs_missing) {
            nhs = false;
            errors |= err::NHS_MISSING;
        }
        let ethnicity = if rng.chance(r.not_stated) { NOT_STATED } else { person.ethnicity };
        let duplicated = rng.chance(r.duplicate);

        // The address is the family's (or the absent parent's own), decided once per family.
        let mut frng = Rng::derive(self.seed, &[0x4144, self.spec.key, u64::from(person.family)]);
        let stale = frng.chance(r.moved);
        let typo_pc = frng.chance(r.typo_postcode);
        let mut address = &fam.address;
        if person.member == Member::AbsentParent {
            if let Some(a) = &fam.absent_address {
                address = a;
            }
        } else if let Some(prev) = fam.previous.as_ref().filter(|_| stale) {
            address = prev;
            errors |= err::MOVED;
        }
        let true_pc = self.geo.postcodes[address.postcode as usize].text.as_str();
        let mut postcode = Cow::Borrowed(true_pc);
        if typo_pc {
            let (t, _) = self.geo.postcode_typo(true_pc, &mut frng);
            postcode = Cow::Owned(t);
            errors |= err::TYPO_POSTCODE;
        }
        let mut id = Identity { forename, surname, dob, nhs, ethnicity, address, postcode, errors, duplicated };
        if self.model == super::harsh::ErrorModel::Harsh {
            let cx = super::harsh::Context { schema: self.schema, geo: self.geo, person };
            super::harsh::apply(&cx, &mut id, &mut rng);
        }
        id
    }

    /// The source's second record of a person: the first record's details with one more slip.
    fn duplicate(&self, p: u32, base: &Identity<'a>) -> Identity<'a> {
        let pop: &'a Population = self.pop;
        let person = pop.person(p);
        let fam = &pop.families[person.family as usize];
        let mut rng = Rng::derive(self.seed, &[0x4455, self.spec.key, u64::from(p)]);
        let mut d = Identity {
            forename: base.forename.clone(),
            surname: base.surname.clone(),
            dob: base.dob,
            nhs: base.nhs,
            ethnicity: base.ethnicity,
            address: base.address,
            postcode: base.postcode.clone(),
            errors: base.errors | err::DUPLICATE,
            duplicated: false,
        };
        let mut options = [0u8, 1, 2, 3, 4, 5, 6];
        rng.shuffle(&mut options);
        for o in options {
            let done = match o {
                0 => typos::typo(&d.forename, &mut rng).map(|t| (err::TYPO_FORENAME, Some(t))),
                1 => typos::typo(&d.surname, &mut rng).map(|t| (err::TYPO_SURNAME, Some(t))),
                2 if d.errors & err::NICKNAME == 0 => {
                    names::nicknames(person.forename).map(|n| (err::NICKNAME, Some((*rng.pick(n)).to_owned())))
                }
                3 if d.dob == Some(person.dob) => swap_day_month(person.dob).map(|s| {
                    d.dob = Some(s);
                    (err::DOB_SWAP, None)
                }),
                4 if d.dob.is_some() && self.spec.rates.dob_missing > 0.0 => {
                    d.dob = None;
                    d.errors &= !err::DOB_SWAP;
                    Some((err::DOB_MISSING, None))
                }
                5 if d.nhs && self.spec.rates.nhs_missing > 0.0 => {
                    d.nhs = false;
                    Some((err::NHS_MISSING, None))
                }
                6 if d.errors & err::MOVED == 0 && person.member != Member::AbsentParent => {
                    fam.previous.as_ref().map(|prev| {
                        d.address = prev;
                        d.postcode = Cow::Borrowed(self.geo.postcodes[prev.postcode as usize].text.as_str());
                        d.errors &= !err::TYPO_POSTCODE;
                        (err::MOVED, None)
                    })
                }
                _ => None,
            };
            if let Some((bit, name)) = done {
                match (bit, name) {
                    (err::TYPO_FORENAME, Some(n)) => d.forename = Cow::Owned(n),
                    (err::NICKNAME, Some(n)) => {
                        // The short form replaces the forename, and with it any typo in it.
                        d.forename = Cow::Owned(n);
                        d.errors &= !err::TYPO_FORENAME;
                    }
                    (err::TYPO_SURNAME, Some(n)) => d.surname = Cow::Owned(n),
                    _ => {}
                }
                d.errors |= bit;
                break;
            }
        }
        d
    }

    /// Fills the person block of the row as `ident` shows person `p`, on an event of `date`.
    fn fill_person(&mut self, p: u32, date: i32, ident: &Identity<'_>) {
        let person = self.pop.person(p);
        let c = &self.cols;
        let row = &mut self.row;
        if let Some(col) = c.nhs {
            let s = row.slot(col);
            if ident.nhs {
                push_padded(s, person.nhs, 10);
            }
        }
        if let Some(col) = c.upn {
            let s = row.slot(col);
            if let Some(u) = &person.upn {
                s.extend(u.iter().map(|&b| char::from(b)));
            }
        }
        if let Some(col) = c.pnc {
            let s = row.slot(col);
            if let Some((year, serial)) = person.pnc
                && i64::from(year) <= i64::from(civil_from_days(date).0)
            {
                let check = char::from(tellonce_schemas::identifiers::pnc::check_character(year, serial));
                // Youth justice writes the short display form for some people.
                if self.spec.name == "youth_justice" && p.is_multiple_of(3) {
                    push_padded(s, u64::from(year % 100), 2);
                    s.push('/');
                    push_padded(s, serial, 1);
                } else {
                    push_padded(s, u64::from(year), 4);
                    s.push('/');
                    push_padded(s, serial, 7);
                }
                s.push(check);
            }
        }
        let upper = self.spec.upper;
        let put_name = |s: &mut String, v: &str| {
            if upper {
                s.extend(v.chars().flat_map(char::to_uppercase));
            } else {
                s.push_str(v);
            }
        };
        if let Some(col) = c.forename {
            put_name(row.slot(col), &ident.forename);
        }
        if let Some(col) = c.surname {
            put_name(row.slot(col), &ident.surname);
        }
        if let Some(col) = c.dob {
            let s = row.slot(col);
            if let Some(d) = ident.dob {
                super::out::push_date(s, d);
            }
        }
        row.set_opt(c.sex, person.sex);
        row.set_opt(c.ethnicity, ETHNICITIES[ident.ethnicity as usize]);
        if let Some(col) = c.address {
            let s = row.slot(col);
            let line = ident.address.line1.as_str();
            match line.split_once(", ") {
                Some((house, rest))
                    if self.spec.quote_house_names
                        && !house.starts_with("Flat ")
                        && !house.starts_with(|ch: char| ch.is_ascii_digit()) =>
                {
                    s.push('"');
                    put_name(s, house);
                    s.push_str("\", ");
                    put_name(s, rest);
                }
                _ => put_name(s, line),
            }
        }
        row.set_opt(c.postcode, &ident.postcode);
        if let Some(col) = c.uprn {
            let with = self.rng.chance(self.spec.rates.uprn);
            let s = row.slot(col);
            if with {
                push_padded(s, ident.address.uprn, 1);
            }
        }
    }

    /// Writes the row built so far as a record about person `p` on `date`, with the source's
    /// duplicate of it where the source holds one.
    pub(crate) fn emit(&mut self, p: u32, date: i32) -> Result<(), SynthError> {
        let ident = self.identity(p);
        self.fill_person(p, date, &ident);
        self.write(p, &ident)?;
        if ident.duplicated {
            let first = !self.seen[p as usize];
            self.seen[p as usize] = true;
            if first || self.rng.chance(0.3) {
                let dup = self.duplicate(p, &ident);
                self.fill_person(p, date, &dup);
                self.write(p, &dup)?;
            }
        }
        Ok(())
    }

    /// Numbers the row, perhaps makes it invalid, writes it and its truth.
    fn write(&mut self, p: u32, ident: &Identity<'_>) -> Result<(), SynthError> {
        self.count += 1;
        let rid = self.cols.record_id;
        {
            let s = self.row.slot(rid);
            s.push_str(self.spec.prefix);
            s.push('-');
            push_padded(s, self.count, 8);
        }
        let mut restore = None;
        let mut broken = None;
        if self.count >= self.next_invalid {
            self.next_invalid = self.count + 250 + self.rng.below(500);
            if let Some((rule, col, old)) = self.make_invalid() {
                restore = Some((col, old));
                broken = Some((rule, col));
            }
        }
        if ident.errors & err::TYPO_POSTCODE != 0 {
            let pc = ident.postcode.as_ref();
            if !pc.is_empty() && !self.geo.known.contains(pc) && !self.extra_postcodes.contains_key(pc) {
                let area = self.geo.postcodes[ident.address.postcode as usize].area;
                self.extra_postcodes.insert(pc.to_owned(), area);
            }
        }
        self.sink.write(&self.row)?;
        self.text.clear();
        for (bit, name) in ERROR_NAMES {
            if ident.errors & bit != 0 {
                if !self.text.is_empty() {
                    self.text.push(';');
                }
                self.text.push_str(name);
            }
        }
        if let Some((rule, col)) = broken {
            push_broken(&mut self.text, self.schema, col, rule);
        }
        let family = self.pop.person(p).family;
        self.truth.write(self.spec.name, self.row.get(rid), p, family, &self.text)?;
        if let Some((col, old)) = restore {
            self.row.fields[col] = old;
        }
        Ok(())
    }

    /// Breaks exactly one rule in the row; returns the rule, the column and its old value.
    fn make_invalid(&mut self) -> Option<(Rule, usize, String)> {
        let options: Vec<(Rule, usize)> =
            self.invalid_rules.iter().copied().filter(|&(_, c)| !self.row.get(c).is_empty()).collect();
        if options.is_empty() {
            return None;
        }
        let (rule, col) = *self.rng.pick(&options);
        let old = self.row.get(col).to_owned();
        let new = match rule {
            Rule::NhsNumberCheckDigit => {
                let mut b = old.clone().into_bytes();
                let last = b.len() - 1;
                b[last] = b'0' + (b[last] - b'0' + 1 + self.rng.below(9) as u8) % 10;
                String::from_utf8(b).ok()?
            }
            Rule::UpnCheckLetter => {
                const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRTUVWXYZ";
                let first = old.as_bytes()[0];
                let pos = LETTERS.iter().position(|&l| l == first).unwrap_or(0);
                let other = LETTERS[(pos + 1 + self.rng.index(LETTERS.len() - 1)) % LETTERS.len()];
                format!("{}{}", char::from(other), &old[1..])
            }
            Rule::PncCheckCharacter => {
                let (head, last) = old.split_at(old.len() - 1);
                let l = last.as_bytes()[0];
                let other = b'A' + (l - b'A' + 1 + self.rng.below(25) as u8) % 26;
                format!("{head}{}", char::from(other))
            }
            Rule::DateCalendar => {
                const BAD: [&str; 6] = ["02-30", "02-31", "04-31", "06-31", "09-31", "11-31"];
                format!("{}-{}", &old[..4], self.rng.pick(&BAD))
            }
            Rule::CodeUnknown => {
                let codes = match self.schema.columns[col].kind {
                    tellonce_schemas::Kind::Code(codes) => codes,
                    _ => &[],
                };
                let mut v = old[..old.len() - 1].to_owned();
                while v.is_empty() || codes.iter().any(|c| c.eq_ignore_ascii_case(&v)) {
                    v.push('X');
                }
                v
            }
            Rule::PostcodeFormat => format!("{}CI", &old[..old.len() - 2]),
            Rule::UprnFormat => "0".to_owned(),
            _ => String::new(),
        };
        self.row.fields[col] = new;
        Some((rule, col, old))
    }

    /// Flushes the file.
    pub(crate) fn finish(self) -> Result<(std::path::PathBuf, usize), SynthError> {
        self.sink.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_month_swap_needs_a_day_that_can_be_a_month() {
        let d = days_from_civil(2015, 3, 7);
        assert_eq!(swap_day_month(d), Some(days_from_civil(2015, 7, 3)));
        assert_eq!(swap_day_month(days_from_civil(2015, 3, 13)), None);
        assert_eq!(swap_day_month(days_from_civil(2015, 4, 4)), None);
    }

    #[test]
    fn every_feed_has_a_schema_and_its_code_column() {
        for spec in &FEEDS {
            let schema = schema_of(spec.name).unwrap();
            assert!(matches!(schema.column(spec.code_column).unwrap().kind, tellonce_schemas::Kind::Code(_)));
            assert!(schema.column(spec.code_column).unwrap().required, "{}", spec.name);
        }
        let built_in: Vec<_> =
            FEEDS.iter().map(|f| f.name).filter(|n| tellonce_schemas::feed::latest(n).is_some()).collect();
        assert_eq!(built_in, tellonce_schemas::feed::names().collect::<Vec<_>>(), "every built-in feed, in order");
        for (name, _) in tellonce_schemas::definition::EXAMPLES {
            let feed = name.trim_end_matches(".toml");
            assert!(FEEDS.iter().any(|f| f.name == feed), "synth writes data for the example feed {feed}");
        }
    }
}
