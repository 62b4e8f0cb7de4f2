//! What the matcher knows about each record: pseudonymised tokens, never a clear identifier.

use super::rules::{KEY_RULES, STRONG};

/// A keyed token (16 bytes of HMAC-SHA256).
pub type Tok = [u8; 16];

/// A keyed Bloom filter of a name's bigrams (1024 bits).
pub type Bloom = tellonce_governance::BloomFilter;

/// No value (an index into an optional table).
pub const NONE: u32 = u32::MAX;

/// Kinds of household evidence that group persons into families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HouseholdKind {
    /// The same property (UPRN).
    Uprn,
    /// The same address line and postcode.
    Address,
    /// The same household or case reference of one partner.
    Reference,
}

/// The records of one build, column by column (one entry per record in every `Vec`).
///
/// Records are numbered in the order they were read; the matcher's results depend only on
/// that order and the data, so a build over the same staging gives the same result.
#[derive(Debug, Default)]
pub struct Records {
    /// Feed names; `feed` indexes into it.
    pub feeds: Vec<&'static str>,
    /// The feed of each record.
    pub feed: Vec<u8>,
    /// The partner's record reference (or its pseudonym, where the agreement withholds it).
    pub record_ref: Vec<String>,
    /// Strong identifier tokens, in the order of [`STRONG`].
    pub strong: [Vec<Option<Tok>>; 3],
    /// Date of birth token.
    pub dob: Vec<Option<Tok>>,
    /// Date of birth with day and month in sorted order, as a token.
    pub dob_unordered: Vec<Option<Tok>>,
    /// Postcode token.
    pub postcode: Vec<Option<Tok>>,
    /// Birth year and postcode, as a token.
    pub year_postcode: Vec<Option<Tok>>,
    /// Sex: `b'M'`, `b'F'`, or 0 when not known (X and U compare with nothing).
    pub sex: Vec<u8>,
    /// Index into `blooms`, or [`NONE`].
    pub bloom: Vec<u32>,
    /// Forename and surname Bloom filters.
    pub blooms: Vec<(Bloom, Bloom)>,
    /// Index into `address_blooms`, or [`NONE`].
    pub address_bloom: Vec<u32>,
    /// First address line Bloom filters.
    pub address_blooms: Vec<Bloom>,
    /// The tokens the scoring pass compares, interned ([`super::compare`]).
    pub tokens: Vec<super::compare::Tokens>,
    /// Each record's forename, surname and date-of-birth one-edit token lists
    /// ([`name_edits`](tellonce_schemas::name_edits)): indices into `edit_lists`, or [`NONE`].
    pub edits: Vec<[u32; 3]>,
    /// The distinct one-edit token lists, their tokens interned as `tokens` are.
    pub edit_lists: Vec<Box<[u32]>>,
    /// Match keys, per rule of [`KEY_RULES`]: (key, record).
    pub keys: Vec<Vec<(Tok, u32)>>,
    /// Household evidence: (kind, scope, key, record). `scope` is the feed for partner
    /// references (which mean nothing across partners), else 0.
    pub households: Vec<(HouseholdKind, u8, Tok, u32)>,
    /// Role in the household, where a feed carries it (`CHILD`, `PARENT_CARER`, ...).
    pub role: Vec<Option<&'static str>>,
    /// The partner's household or case reference, interned within its feed ([`NONE`]: none):
    /// two records of one feed with one number are listed by that partner in one household.
    pub household_ref: Vec<u32>,
    /// District names; `district` indexes into it (0 = not known).
    pub districts: Vec<String>,
    /// The district of each record's postcode.
    pub district: Vec<u16>,
    /// The IMD decile of each record's small area (0 = not known).
    pub imd: Vec<u8>,
}

impl Records {
    /// An empty set of records.
    pub fn new() -> Records {
        Records { keys: vec![Vec::new(); KEY_RULES.len()], districts: vec![String::new()], ..Records::default() }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.feed.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.feed.is_empty()
    }

    /// Starts a record; the caller then sets its optional columns through the returned index.
    pub fn push(&mut self, feed: &'static str, record_ref: String) -> u32 {
        let f = match self.feeds.iter().position(|x| *x == feed) {
            Some(i) => i,
            None => {
                self.feeds.push(feed);
                self.feeds.len() - 1
            }
        };
        let i = self.feed.len() as u32;
        self.feed.push(f as u8);
        self.record_ref.push(record_ref);
        for s in &mut self.strong {
            s.push(None);
        }
        self.dob.push(None);
        self.dob_unordered.push(None);
        self.postcode.push(None);
        self.year_postcode.push(None);
        self.sex.push(0);
        self.bloom.push(NONE);
        self.address_bloom.push(NONE);
        self.tokens.push([NONE; super::compare::TK]);
        self.edits.push([NONE; 3]);
        self.role.push(None);
        self.household_ref.push(NONE);
        self.district.push(0);
        self.imd.push(0);
        i
    }

    /// Whether the forename (`field` 0), surname (1) or date of birth (2) of records `i` and `j`
    /// are one edit apart by their one-edit tokens; false where either has none.
    pub fn one_edit(&self, field: usize, i: usize, j: usize) -> bool {
        self.one_edit_across((i, field), (j, field))
    }

    /// Whether the forename (`field` 0) or surname (1) of records `i` and `j` are one edit apart,
    /// where both have one-edit tokens; `None` where either has none (a name under three letters,
    /// or staged without them).
    pub fn one_edit_known(&self, field: usize, i: usize, j: usize) -> Option<bool> {
        let has = |r: usize| self.edits[r].get(field).is_some_and(|&k| k != NONE);
        (has(i) && has(j)).then(|| self.one_edit(field, i, j))
    }

    /// Whether a name of one record and a name of another (record, field: 0 forename, 1
    /// surname) are one edit apart: the tokens of both fields are of one domain, so a forename
    /// compares with a surname.
    pub fn one_edit_across(&self, (i, fi): (usize, usize), (j, fj): (usize, usize)) -> bool {
        let list = |r: usize, field: usize| self.edits[r].get(field).and_then(|&k| self.edit_lists.get(k as usize));
        match (list(i, fi), list(j, fj)) {
            (Some(a), Some(b)) => tellonce_schemas::name_edits::one_edit(a, b),
            _ => false,
        }
    }

    /// The index of a district name, adding it if new.
    pub fn district_index(&mut self, name: &str) -> u16 {
        match self.districts.iter().position(|d| d == name) {
            Some(i) => i as u16,
            None => {
                self.districts.push(name.to_owned());
                (self.districts.len() - 1) as u16
            }
        }
    }

    /// The feed name of a record.
    pub fn feed_name(&self, i: usize) -> &'static str {
        self.feeds.get(usize::from(self.feed[i])).copied().unwrap_or("?")
    }

    /// Whether a record carries too little to be matched: no strong identifier, no match key
    /// and no name encodings with a date of birth.
    pub fn low_evidence(&self, has_key: &[bool], i: usize) -> bool {
        let strong = self.strong.iter().any(|s| s[i].is_some());
        let fuzzy = self.bloom[i] != NONE && self.dob_unordered[i].is_some();
        !strong && !has_key[i] && !fuzzy
    }

    /// For each record, whether it holds at least one match key.
    pub fn has_key(&self) -> Vec<bool> {
        let mut has = vec![false; self.len()];
        for rule in &self.keys {
            for &(_, r) in rule {
                has[r as usize] = true;
            }
        }
        has
    }
}

/// Number of strong identifiers.
pub const STRONG_COUNT: usize = STRONG.len();
