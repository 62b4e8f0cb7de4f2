//! Validating a mapping file into per-column rules, and the rules themselves.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use tellonce_schemas::position::{LineIndex, Position};
use tellonce_schemas::{FeedSchema, Kind, feed};
use toml::Spanned;

use super::dates::{self, DateFormat};
use super::file::{BooleanTable, DecimalTable, Formats, MappingFile};
use super::nulls::{null_spellings, report_shadowed};
use super::withdrawal::withdrawal_marker;
use super::{Heading, Mapping, MappingProblem, MappingRule, fold_heading};

/// What the mapping does to one feed column's values.
#[derive(Debug, Clone, Default)]
pub(crate) struct ColumnRule {
    /// The value of every record whose cell is empty or absent.
    pub(crate) constant: Option<String>,
    /// Partner code (trimmed, matched without case) → feed code.
    pub(crate) values: Vec<(String, String)>,
    /// Date formats, tried in order.
    pub(crate) dates: Vec<DateFormat>,
    /// Spellings of true and of false (matched trimmed, without case).
    pub(crate) booleans: Option<(Vec<String>, Vec<String>)>,
    /// How the partner writes numbers in this column.
    pub(crate) decimal: Option<NumberSpelling>,
}

/// How a partner writes a number: `[decimals.COLUMN]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberSpelling {
    /// The decimal separator.
    pub(crate) point: char,
    /// A thousands separator, removed.
    pub(crate) thousands: Option<char>,
    /// A currency sign or code, removed from either end (after a sign).
    pub(crate) currency: Option<String>,
}

impl NumberSpelling {
    /// `value` (trimmed) as the validate stage reads a number: currency removed, thousands
    /// separators dropped, the decimal separator made a point. `None` when nothing changes.
    fn rewrite(&self, value: &str) -> Option<String> {
        let t = value.trim();
        let (sign, rest) = match t.strip_prefix(['-', '+']) {
            Some(r) => (&t[..1], r.trim_start()),
            None => ("", t),
        };
        let rest = match self.currency.as_deref() {
            Some(c) => {
                let r = rest.strip_prefix(c).map_or(rest, str::trim_start);
                r.strip_suffix(c).map_or(r, str::trim_end)
            }
            None => rest,
        };
        // `£-12.50` puts the sign after the currency.
        let (sign, rest) = match (sign, rest.strip_prefix(['-', '+'])) {
            ("", Some(r)) => (&rest[..1], r),
            _ => (sign, rest),
        };
        if !self.grouped_in_thousands(rest) {
            // `12,5` or `1.250,50` under a mapping that writes `1,250.50`: another spelling,
            // or a slip. Left as it is, for the validate stage to refuse, not read as 125.
            return None;
        }
        let digits = rest.chars().filter(|&c| Some(c) != self.thousands).map(|c| if c == self.point { '.' } else { c });
        let out: String = sign.chars().chain(digits).collect();
        (out != t).then_some(out)
    }
}

impl NumberSpelling {
    /// Whether the thousands separators in `number` (sign and currency removed) stand where
    /// they group its whole part in threes: one to three digits, then groups of exactly three,
    /// and none after the decimal separator. True when there is none.
    fn grouped_in_thousands(&self, number: &str) -> bool {
        let Some(t) = self.thousands.filter(|&t| number.contains(t)) else { return true };
        let (whole, fraction) = number.split_once(self.point).unwrap_or((number, ""));
        if fraction.contains(t) {
            return false;
        }
        let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
        whole
            .split(t)
            .enumerate()
            .all(|(i, g)| digits(g) && if i == 0 { (1..=3).contains(&g.len()) } else { g.len() == 3 })
    }
}

impl ColumnRule {
    /// Whether the rule changes any value.
    pub(crate) fn rewrites(&self) -> bool {
        self.constant.is_some()
            || !self.values.is_empty()
            || !self.dates.is_empty()
            || self.booleans.is_some()
            || self.decimal.is_some()
    }

    /// The feed code the value map gives `value`, if any.
    pub(crate) fn map_code(&self, value: &str) -> Option<&str> {
        let value = tellonce_schemas::check::as_shown(value);
        self.values.iter().find(|(from, _)| from.eq_ignore_ascii_case(&value)).map(|(_, to)| to.as_str())
    }

    /// The value as the feed writes it. A value the rule cannot translate is passed as it is,
    /// for the validate stage to judge.
    pub(crate) fn rewrite<'a>(&'a self, value: Option<&'a str>) -> Option<Cow<'a, str>> {
        let Some(v) = value.filter(|v| !v.is_empty()) else {
            return self.constant.as_deref().map(Cow::Borrowed);
        };
        if let Some(code) = self.map_code(v) {
            return Some(Cow::Borrowed(code));
        }
        if let Some(d) = self.dates.iter().find_map(|f| f.parse_date(v)) {
            return Some(Cow::Owned(dates::iso(d)));
        }
        if let Some((y, m, d)) = self.dates.iter().find_map(|f| f.impossible_day(v)) {
            return Some(Cow::Owned(format!("{y:04}-{m:02}-{d:02}")));
        }
        if let Some((yes, no)) = &self.booleans {
            let t = tellonce_schemas::check::as_shown(v);
            if yes.iter().any(|s| s.eq_ignore_ascii_case(&t)) {
                return Some(Cow::Borrowed("true"));
            }
            if no.iter().any(|s| s.eq_ignore_ascii_case(&t)) {
                return Some(Cow::Borrowed("false"));
            }
        }
        if let Some(out) = self.decimal.as_ref().and_then(|d| d.rewrite(v)) {
            return Some(Cow::Owned(out));
        }
        Some(Cow::Borrowed(v))
    }
}

/// Turns byte offsets into 1-based line and character column.
pub(super) struct Places<'t> {
    path: &'t Path,
    text: &'t str,
    index: LineIndex<'t>,
    problems: Vec<MappingProblem>,
}

impl<'t> Places<'t> {
    fn new(path: &'t Path, text: &'t str) -> Self {
        Places { path, text, index: LineIndex::new(text), problems: Vec::new() }
    }

    pub(super) fn report(&mut self, offset: usize, rule: MappingRule, message: impl Into<String>) {
        let Position { line, column } = self.index.position(offset);
        self.problems.push(MappingProblem { path: self.path.to_owned(), line, column, rule, message: message.into() });
    }
}

/// The feed column named `name` under `key`, reporting one that does not exist.
fn column_index(places: &mut Places<'_>, feed: &FeedSchema, key: &str, name: &str, at: usize) -> Option<usize> {
    let found = feed.index_of(name);
    if found.is_none() {
        let names: Vec<_> = feed.columns.iter().map(|c| c.name).collect();
        places.report(
            at,
            MappingRule::ColumnUnknown,
            format!("{key}: {name:?} is not a column of feed {}; its columns are: {}", feed.name, names.join(", ")),
        );
    }
    found
}

/// Whether a value passes `kind`'s check, for constants and value-map targets.
fn check_value(places: &mut Places<'_>, kind: &Kind, key: &str, value: &str, at: usize) -> bool {
    match kind.check(value) {
        Ok(_) => true,
        Err(rule) => {
            places.report(
                at,
                MappingRule::Value,
                format!("{key}: the column would refuse this value ({rule}); expected {}", kind.describe()),
            );
            false
        }
    }
}

const TOP_KEYS: &[&str] =
    &["feed", "ignore", "file", "columns", "constants", "values", "dates", "booleans", "decimals", "withdrawal"];
const FILE_KEYS: &[&str] = &["delimiter", "encoding", "skip_lines", "footer_lines", "sheet", "quote", "null_values"];
const BOOLEAN_KEYS: &[&str] = &["true", "false"];
const DECIMAL_KEYS: &[&str] = &["decimal_separator", "thousands_separator", "currency_symbol"];

/// Reports every key of `table` (named `name`) that the format does not know, and of the
/// sub-tables whose keys are fixed.
fn unknown_keys(places: &mut Places<'_>, table: &toml::de::DeTable<'_>, name: &str, allowed: &[&str]) {
    for (key, value) in table.iter() {
        let k = key.get_ref().as_ref();
        let full = if name.is_empty() { k.to_owned() } else { format!("{name}.{k}") };
        if !allowed.contains(&k) {
            places.report(
                key.span().start,
                MappingRule::UnknownKey,
                format!(
                    "unknown key `{full}`: not part of the mapping format (expected one of {})",
                    allowed.join(", ")
                ),
            );
            continue;
        }
        let toml::de::DeValue::Table(sub) = value.get_ref() else { continue };
        match (name, k) {
            ("", "file") => unknown_keys(places, sub, &full, FILE_KEYS),
            ("", "withdrawal") => unknown_keys(places, sub, &full, super::withdrawal::KEYS),
            ("", "booleans" | "decimals") => {
                let keys = if k == "booleans" { BOOLEAN_KEYS } else { DECIMAL_KEYS };
                for (column, spelling) in sub.iter() {
                    if let toml::de::DeValue::Table(t) = spelling.get_ref() {
                        unknown_keys(places, t, &format!("{full}.{}", column.get_ref()), keys);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Where a value starts.
pub(super) fn at<T>(s: &Spanned<T>) -> usize {
    s.span().start
}

fn one_char(s: &str) -> Option<char> {
    let mut it = s.chars();
    let c = it.next()?;
    it.next().is_none().then_some(c)
}

/// Checks a mapping file against `feed` and turns it into a [`Mapping`], or lists every problem
/// found, in the order of their places in the file.
pub(super) fn validate(path: &Path, bytes: &[u8], feed: &'static FeedSchema) -> Result<Mapping, Vec<MappingProblem>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        let mut p = Places::new(path, "");
        p.report(0, MappingRule::TomlSyntax, "the mapping is not UTF-8");
        return Err(p.problems);
    };
    let mut places = Places::new(path, text);
    let Some(file) = read_file(&mut places) else { return Err(in_file_order(places.problems)) };
    check_feed(&mut places, &file.feed, feed);
    let delimiter = file_setting(&mut places, "file.delimiter", file.file.delimiter.as_ref());
    let encoding = file_setting(&mut places, "file.encoding", file.file.encoding.as_ref());
    let skip_lines = file.file.skip_lines.as_ref().map(|s| *s.get_ref());
    let footer_lines = file.file.footer_lines.as_ref().map_or(0, |s| *s.get_ref());
    let sheet = sheet_name(&mut places, file.file.sheet.as_ref());
    let quotes_fields = quote_setting(&mut places, file.file.quote.as_ref());
    let nulls = null_spellings(&mut places, file.file.null_values.as_ref());
    let ignored = ignored_headings(&mut places, &file.ignore);
    let headings = mapped_headings(&mut places, feed, &file.columns, &ignored);
    let mut rules: Vec<ColumnRule> = vec![ColumnRule::default(); feed.columns.len()];
    add_constants(&mut places, feed, &file.constants, &headings, &mut rules);
    add_value_maps(&mut places, feed, &file.values, &mut rules);
    add_date_formats(&mut places, feed, &file.dates, &mut rules);
    add_boolean_spellings(&mut places, feed, &file.booleans, &mut rules);
    add_decimal_separators(&mut places, feed, &file.decimals, &mut rules);
    let withdrawal =
        file.withdrawal.as_ref().and_then(|w| withdrawal_marker(&mut places, feed, w, &headings, &ignored));
    let names: Vec<&str> = feed.columns.iter().map(|c| c.name).collect();
    report_shadowed(&mut places, file.file.null_values.as_ref(), &nulls, &names, &rules);
    if !places.problems.is_empty() {
        return Err(in_file_order(places.problems));
    }
    Ok(Mapping {
        path: path.to_owned(),
        feed,
        delimiter,
        encoding,
        skip_lines,
        footer_lines,
        sheet,
        quotes_fields,
        nulls,
        headings,
        ignored,
        rules,
        withdrawal,
    })
}

/// Problems sorted by line and column (those at one place keep the order they were found in).
fn in_file_order(mut problems: Vec<MappingProblem>) -> Vec<MappingProblem> {
    problems.sort_by_key(|p| (p.line, p.column));
    problems
}

/// The mapping file read with serde, or `None` with the problems reported.
fn read_file(places: &mut Places<'_>) -> Option<MappingFile> {
    let text = places.text;
    // Every unknown key at once (serde, below, would stop at the first); a file that is not
    // TOML at all is left to serde's message.
    if let Ok(root) = toml::de::DeTable::parse(text) {
        unknown_keys(places, root.get_ref(), "", TOP_KEYS);
        if !places.problems.is_empty() {
            return None;
        }
    }
    match toml::from_str(text) {
        Ok(f) => Some(f),
        Err(e) => {
            let message = e.message().trim().to_owned();
            let rule = if message.starts_with("unknown field") {
                MappingRule::UnknownKey
            } else if message.starts_with("missing field")
                || message.starts_with("invalid type")
                || message.contains("did not match any variant")
            {
                MappingRule::Type
            } else {
                MappingRule::TomlSyntax
            };
            places.report(e.span().map_or(0, |s| s.start), rule, message);
            None
        }
    }
}

/// Reports a `feed` that does not exist or is not the source's.
fn check_feed(places: &mut Places<'_>, named: &Spanned<String>, feed: &FeedSchema) {
    let feed_name = named.get_ref();
    if feed::latest(feed_name).is_none() {
        let known: Vec<_> = feed::names().collect();
        places.report(
            at(named),
            MappingRule::Feed,
            format!("feed {feed_name:?} does not exist; known feeds: {}", known.join(", ")),
        );
    } else if feed_name != feed.name {
        places.report(
            at(named),
            MappingRule::Feed,
            format!("the mapping is for feed {feed_name:?} but its source is feed {:?}", feed.name),
        );
    }
}

/// A `[file]` setting (`key` is its full name) parsed, or `None` if absent or not understood
/// (reported).
fn file_setting<T: FromStr<Err = String>>(
    places: &mut Places<'_>,
    key: &str,
    value: Option<&Spanned<String>>,
) -> Option<T> {
    value.and_then(|d| match d.get_ref().parse() {
        Ok(v) => Some(v),
        Err(message) => {
            places.report(at(d), MappingRule::Dialect, format!("{key}: {message}"));
            None
        }
    })
}

/// `file.sheet`, reporting an empty one.
fn sheet_name(places: &mut Places<'_>, sheet: Option<&Spanned<String>>) -> Option<String> {
    sheet.and_then(|s| {
        if s.get_ref().trim().is_empty() {
            places.report(
                at(s),
                MappingRule::Dialect,
                "file.sheet is empty: name the sheet, or leave it out for the first",
            );
            None
        } else {
            Some(s.get_ref().clone())
        }
    })
}

/// `file.quote`: whether fields may be quoted (`"`, the default) or not (`none`, for an export
/// that never quotes, in which a stray `"` would otherwise open a field that swallows the lines
/// after it).
fn quote_setting(places: &mut Places<'_>, quote: Option<&Spanned<String>>) -> bool {
    match quote.map(|q| (q, q.get_ref().trim())) {
        None | Some((_, "\"")) => true,
        Some((_, q)) if q.eq_ignore_ascii_case("none") => false,
        Some((q, _)) => {
            places.report(
                at(q),
                MappingRule::Dialect,
                "file.quote: expected \"\\\"\" (fields may be quoted, the default) or \"none\" (a quote is an \
                 ordinary character, for an export that never quotes)",
            );
            true
        }
    }
}

/// The `ignore` headings, folded, reporting empty and repeated ones.
fn ignored_headings(places: &mut Places<'_>, ignore: &[Spanned<String>]) -> Vec<String> {
    let mut ignored: Vec<String> = Vec::new();
    for name in ignore {
        let folded = fold_heading(name.get_ref());
        if folded.is_empty() {
            places.report(at(name), MappingRule::Type, "ignore: a heading must have a letter or digit");
        } else if ignored.contains(&folded) {
            places.report(
                at(name),
                MappingRule::DuplicateHeading,
                format!("ignore: {:?} is listed twice", name.get_ref()),
            );
        } else {
            ignored.push(folded);
        }
    }
    ignored
}

/// The `[columns]` headings, reporting empty, repeated or ignored headings and columns that
/// are unknown or mapped twice.
fn mapped_headings(
    places: &mut Places<'_>,
    feed: &FeedSchema,
    columns: &BTreeMap<String, Spanned<String>>,
    ignored: &[String],
) -> Vec<Heading> {
    let mut headings: Vec<Heading> = Vec::new();
    for (heading, target) in columns {
        let key = format!("columns.{heading:?}");
        let folded = fold_heading(heading);
        if folded.is_empty() {
            places.report(at(target), MappingRule::Type, format!("{key}: a heading must have a letter or digit"));
            continue;
        }
        if let Some(h) = headings.iter().find(|h| h.folded == folded) {
            places.report(
                at(target),
                MappingRule::DuplicateHeading,
                format!("{key}: the same heading as {:?} once case, spaces and punctuation are set aside", h.written),
            );
            continue;
        }
        if ignored.contains(&folded) {
            places.report(at(target), MappingRule::DuplicateHeading, format!("{key}: the heading is also in `ignore`"));
            continue;
        }
        let Some(i) = column_index(places, feed, &key, target.get_ref(), at(target)) else { continue };
        if let Some(h) = headings.iter().find(|h| h.column == i) {
            places.report(
                at(target),
                MappingRule::DuplicateTarget,
                format!("{key}: feed column {} is already the heading {:?}", feed.columns[i].name, h.written),
            );
            continue;
        }
        headings.push(Heading { folded, written: heading.clone(), column: i });
    }
    headings
}

/// `[constants]` into `rules`, refusing a constant for a column the file sends.
fn add_constants(
    places: &mut Places<'_>,
    feed: &FeedSchema,
    constants: &BTreeMap<String, Spanned<String>>,
    headings: &[Heading],
    rules: &mut [ColumnRule],
) {
    for (name, value) in constants {
        let key = format!("constants.{name}");
        let Some(i) = column_index(places, feed, &key, name, at(value)) else { continue };
        if let Some(h) = headings.iter().find(|h| h.column == i) {
            places.report(
                at(value),
                MappingRule::DuplicateTarget,
                format!(
                    "{key}: the column is also the heading {:?}; a constant is for a column the partner does not send",
                    h.written
                ),
            );
            continue;
        }
        if check_value(places, &feed.columns[i].kind, &key, value.get_ref(), at(value)) {
            rules[i].constant = Some(value.get_ref().clone());
        }
    }
}

/// `[values.COLUMN]` maps into `rules`.
fn add_value_maps(
    places: &mut Places<'_>,
    feed: &FeedSchema,
    values: &BTreeMap<String, Spanned<BTreeMap<String, Spanned<String>>>>,
    rules: &mut [ColumnRule],
) {
    for (name, table) in values {
        let key = format!("values.{name}");
        let Some(i) = column_index(places, feed, &key, name, at(table)) else { continue };
        let kind = feed.columns[i].kind;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (from, to) in table.get_ref() {
            let from = from.trim();
            if pairs.iter().any(|(f, _)| f.eq_ignore_ascii_case(from)) {
                places.report(
                    at(to),
                    MappingRule::DuplicateHeading,
                    format!("{key}: the code {from:?} is listed twice"),
                );
                continue;
            }
            if check_value(places, &kind, &format!("{key}.{from:?}"), to.get_ref(), at(to)) {
                pairs.push((from.to_owned(), to.get_ref().trim().to_owned()));
            }
        }
        if table.get_ref().is_empty() {
            places.report(at(table), MappingRule::Type, format!("{key} maps no code"));
        }
        rules[i].values = pairs;
    }
}

/// `[dates]` formats into `rules`, for date columns only.
fn add_date_formats(
    places: &mut Places<'_>,
    feed: &FeedSchema,
    dates: &BTreeMap<String, Spanned<Formats>>,
    rules: &mut [ColumnRule],
) {
    for (name, formats) in dates {
        let key = format!("dates.{name}");
        let Some(i) = column_index(places, feed, &key, name, at(formats)) else { continue };
        if !matches!(feed.columns[i].kind, Kind::Date | Kind::BirthDate) {
            places.report(
                at(formats),
                MappingRule::Kind,
                format!("{key}: {name} is not a date column ({})", feed.columns[i].kind.describe()),
            );
            continue;
        }
        let list = formats.get_ref().list();
        if list.is_empty() {
            places.report(at(formats), MappingRule::Type, format!("{key} names no format"));
        }
        for f in list {
            match DateFormat::parse(f) {
                Ok(f) => rules[i].dates.push(f),
                Err(message) => places.report(at(formats), MappingRule::DateFormat, format!("{key}: {message}")),
            }
        }
    }
}

/// `[booleans.COLUMN]` spellings into `rules`, for boolean columns only.
fn add_boolean_spellings(
    places: &mut Places<'_>,
    feed: &FeedSchema,
    booleans: &BTreeMap<String, Spanned<BooleanTable>>,
    rules: &mut [ColumnRule],
) {
    for (name, spelling) in booleans {
        let key = format!("booleans.{name}");
        let Some(i) = column_index(places, feed, &key, name, at(spelling)) else { continue };
        if feed.columns[i].kind != Kind::Boolean {
            places.report(at(spelling), MappingRule::Kind, format!("{key}: {name} is not a boolean column"));
            continue;
        }
        let s = spelling.get_ref();
        let clean = |v: &[String]| v.iter().map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect::<Vec<_>>();
        let (yes, no) = (clean(&s.yes), clean(&s.no));
        if yes.is_empty() || no.is_empty() {
            places.report(
                at(spelling),
                MappingRule::Type,
                format!("{key}: give at least one spelling of true and of false"),
            );
        } else if yes.iter().any(|y| no.iter().any(|n| n.eq_ignore_ascii_case(y))) {
            places.report(at(spelling), MappingRule::Value, format!("{key}: a spelling is both true and false"));
        } else {
            rules[i].booleans = Some((yes, no));
        }
    }
}

/// `[decimals.COLUMN]` separators into `rules`, for number columns only.
fn add_decimal_separators(
    places: &mut Places<'_>,
    feed: &FeedSchema,
    decimals: &BTreeMap<String, Spanned<DecimalTable>>,
    rules: &mut [ColumnRule],
) {
    for (name, spelling) in decimals {
        let key = format!("decimals.{name}");
        let Some(i) = column_index(places, feed, &key, name, at(spelling)) else { continue };
        if !matches!(feed.columns[i].kind, Kind::Decimal { .. } | Kind::Integer { .. }) {
            places.report(at(spelling), MappingRule::Kind, format!("{key}: {name} is not a number column"));
            continue;
        }
        let s = spelling.get_ref();
        let point = s.decimal_separator.as_deref().map_or(Some('.'), one_char);
        let thousands = s.thousands_separator.as_deref().map(one_char);
        let bad = |c: char| c.is_ascii_digit() || c == '-' || c == '+';
        let currency = s.currency_symbol.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
        if currency
            .as_deref()
            .is_some_and(|c| c.chars().any(|ch| ch.is_ascii_digit() || bad(ch) || ch == '.' || ch == ','))
        {
            places.report(
                at(spelling),
                MappingRule::Value,
                format!("{key}: the currency symbol cannot hold a digit, sign or separator"),
            );
            continue;
        }
        match (point, thousands) {
            (Some(p), Some(Some(t))) if p == t || bad(p) || bad(t) => places.report(
                at(spelling),
                MappingRule::Value,
                format!("{key}: the separators must differ from each other and from digits and signs"),
            ),
            (Some(p), None) if bad(p) => places.report(
                at(spelling),
                MappingRule::Value,
                format!("{key}: the decimal separator cannot be a digit or sign"),
            ),
            (Some(point), None) => rules[i].decimal = Some(NumberSpelling { point, thousands: None, currency }),
            (Some(point), Some(Some(t))) => {
                rules[i].decimal = Some(NumberSpelling { point, thousands: Some(t), currency })
            }
            _ => {
                places.report(at(spelling), MappingRule::Value, format!("{key}: each separator must be one character"))
            }
        }
    }
}
