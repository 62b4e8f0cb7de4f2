//! Proposing a source mapping from a partner file (`tellonce sources infer`): which heading is
//! which feed column, how the file is written, which date formats read each date column, and
//! which code each partner code stands for. A proposal is for a person to review; it never
//! decides on its own.
//!
//! Headings are placed by name (the column's own name, the headings partners use for the
//! standard columns, words in common) weighed with how well a sample of their values fits the
//! column's checks. NHS numbers, UPNs, PNC IDs and postcodes also place a heading by their values
//! alone. Each feed column takes at most one heading, best score first.
//!
//! The proposal names headings, formats and code values; it never holds other values. A heading
//! that looks like a value is left out by position, and so is every heading no column took when
//! the header as a whole does not pass the rule `run` uses for the columns it drops, or when
//! fewer than two of its headings name the feed column they were placed on (the line may be a
//! record of plain words), or when it is a value its own column holds or a name over a column
//! of names (see `headings.rs`); a file whose header line reads as a record (a date or an
//! identifier over such values, or several cells the rows below hold again) is refused
//! ([`InferError::NoHeader`]).
//!
//! Beyond the sample: a CSV header whose quoted headings hold line breaks is read as the one
//! record it is (`reheader.rs`), lines below the table that are no records are proposed as
//! `footer_lines` (`footer.rs`), and [`propose`] reads the sheet of a workbook that holds the
//! table when none is named (`sheets.rs`). A partner code is written into a proposed value map only if its
//! column's heading names the field and its values repeat as a code list's do, it is not a value
//! of an identifying column nor shaped like an identifier (nor like a person's name, unless the
//! placement is sure), and the sample holds it at least [`MIN_SHOWN`] times and it is short (see
//! `withhold.rs`): anything else could be a name or a reference put in the wrong column.

mod footer;
pub(crate) mod headings;
mod missing;
mod names;
mod reheader;
mod render;
mod sheets;
mod values;
pub(crate) mod withhold;

use std::path::PathBuf;

use tellonce_schemas::{FeedSchema, Kind};

pub use headings::Unnamed;
pub use missing::{NULL_AT_LEAST_COLUMNS, NULL_WORDS, NullSeen};
pub use names::NameMatch;
pub use render::render;
pub use sheets::{ProposeError, SheetChoice, propose};
pub use withhold::{MAX_CODES, Withheld};

use crate::file_source::sample::Sample;

/// The least score that places a heading.
const PLACE_AT: f64 = 0.45;
/// The least times a partner code must be seen in the sample to be written into the proposal.
pub const MIN_SHOWN: usize = 3;
/// The longest partner code written into the proposal.
const MAX_SHOWN_LEN: usize = 40;

/// Why no mapping can be proposed for a file.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// The header line reads as a record: the file was sent without its header. The message
    /// counts cells and never shows one (they are a person's values).
    #[error(
        "{} has no header line: {where_} reads as a record, not as headings ({like_values} of its {cells} \
         cells read as the values of the columns below them: dates, numbers, identifiers, or values the \
         rows below hold again); a mapping \
         places a column by its heading and has no option for a file without one, so ask the partner \
         for the extract with its header line, or add the header line above the first record",
        path.display()
    )]
    NoHeader {
        /// The file.
        path: PathBuf,
        /// Where the header was looked for (`line 1`, `row 3 of sheet "Export"`).
        where_: String,
        /// Cells that read as the values of their column.
        like_values: usize,
        /// Cells that are not blank.
        cells: usize,
    },
}

/// A column of the file the proposal leaves out because its heading cannot be written.
#[derive(Debug, Clone)]
pub struct UnnamedColumn {
    /// Its position in the file, from 0.
    pub index: usize,
    /// Why its heading is not written.
    pub why: Unnamed,
    /// A feed column its values alone fit (an NHS number, a UPN, a PNC ID, a postcode), if one
    /// no heading was placed on does.
    pub fits: Option<&'static str>,
}

/// How sure a placement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Check it: a weak likeness.
    Low,
    /// Likely.
    Medium,
    /// Name and values agree.
    High,
}

impl Confidence {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A heading placed on a feed column.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The partner's heading, as written.
    pub heading: String,
    /// Its position in the file.
    pub index: usize,
    /// The feed column.
    pub column: &'static str,
    /// How sure.
    pub confidence: Confidence,
    /// Why, by name.
    pub by_name: NameMatch,
    /// How much the heading alone looks like the column's name (0 to 1), whatever its values.
    pub name: f64,
    /// Share of sampled values that fit the column (once read as proposed); `None` when the
    /// sample holds none.
    pub fit: Option<f64>,
}

/// Date formats proposed for a column.
#[derive(Debug, Clone)]
pub struct DatePlan {
    /// The feed column.
    pub column: &'static str,
    /// Formats, in the order to try them.
    pub formats: Vec<&'static str>,
    /// Share of sampled values they read.
    pub share: f64,
    /// Values of the sample.
    pub of: usize,
    /// No day above 12 was seen: day-first is assumed.
    pub ambiguous: bool,
    /// A format writes the year in two digits (`%y`), which reads 00-69 as 20xx: to be checked.
    pub two_digit_year: bool,
    /// Sampled values the formats read as a day after today (a parent born in 1965 written `65`
    /// read as 2065), counted where a format writes the year in two digits.
    pub future: usize,
}

/// A value map proposed for a code column.
#[derive(Debug, Clone)]
pub struct ValuePlan {
    /// The feed column.
    pub column: &'static str,
    /// Partner code → feed code, with times seen (only codes shown: see [`Withheld`]).
    pub map: Vec<(String, &'static str, usize)>,
    /// Partner codes no code was found for, shown.
    pub unmapped: Vec<(String, usize)>,
    /// Partner values, mapped or not, not shown, by reason.
    pub withheld: Withheld,
}

/// The proposal for one file and feed.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The feed.
    pub feed: &'static FeedSchema,
    /// What was sampled.
    pub sample: Sample,
    /// Headings placed, in file order.
    pub placed: Vec<Placement>,
    /// Headings not placed, as written.
    pub unplaced: Vec<String>,
    /// Columns left out because their heading is blank or looks like a value.
    pub unnamed: Vec<UnnamedColumn>,
    /// Required feed columns no heading was placed on.
    pub missing_required: Vec<&'static str>,
    /// Date formats per date column that needs them.
    pub dates: Vec<DatePlan>,
    /// Value maps per code column that needs one.
    pub values: Vec<ValuePlan>,
    /// How each number column that needs it writes its numbers.
    pub numbers: Vec<NumberPlan>,
    /// Spellings of each boolean column that needs them.
    pub booleans: Vec<BooleanPlan>,
    /// A heading no feed column took whose values say a record was withdrawn, if one does.
    pub withdrawal: Option<WithdrawalPlan>,
    /// Spellings of a missing value seen across columns, proposed as `null_values`; their
    /// cells are left out of every other plan, as a run under the proposal empties them.
    pub null_values: Vec<NullSeen>,
    /// What the file's bytes say when it mixes valid UTF-8 with bytes that are not (CSV only).
    pub mixed_encoding: Option<crate::file_source::dialect::EncodingEvidence>,
    /// Lines ending the file below its table that are no records (a total, a "run by" line),
    /// proposed as `footer_lines` (CSV only); 0 for none.
    pub footer_lines: usize,
    /// The sheet of a workbook chosen as the one holding the table, and those left, when no sheet
    /// was named ([`propose`]).
    pub sheet_choice: Option<SheetChoice>,
}

/// An unplaced heading that looks like the partner's withdrawal marker (a status column with
/// `Deleted` or `Sent in error` among its values), proposed commented out: a wrong one would
/// withdraw records.
#[derive(Debug, Clone)]
pub struct WithdrawalPlan {
    /// The heading, as written.
    pub heading: String,
    /// Its values that mark a withdrawal, with times seen (only values shown: see [`MIN_SHOWN`]).
    pub values: Vec<(String, usize)>,
}

/// Values a partner's status column uses for a record taken back (not for a case closed, which
/// is a record like any other).
const WITHDRAWN_WORDS: &[&str] = &[
    "deleted",
    "withdrawn",
    "removed",
    "void",
    "voided",
    "cancelled",
    "canceled",
    "sent in error",
    "entered in error",
    "created in error",
    "recorded in error",
    "erroneous",
];

/// The first unplaced heading that may be written whose shown values include a withdrawal word.
fn withdrawal_marker(sample: &Sample, judged: &[Option<Unnamed>], placed: &[Placement]) -> Option<WithdrawalPlan> {
    for (j, heading) in sample.headings.iter().enumerate() {
        if judged.get(j).is_none_or(Option::is_some) || placed.iter().any(|p| p.index == j) {
            continue;
        }
        let mut counts: Vec<(String, usize)> = Vec::new();
        for v in sample.column(j) {
            match counts.iter_mut().find(|(x, _)| x.eq_ignore_ascii_case(v)) {
                Some((_, n)) => *n += 1,
                None => counts.push((v.to_owned(), 1)),
            }
        }
        let values: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(v, n)| shown(v, *n) && WITHDRAWN_WORDS.iter().any(|w| w.eq_ignore_ascii_case(v)))
            .collect();
        if !values.is_empty() {
            return Some(WithdrawalPlan { heading: heading.clone(), values });
        }
    }
    None
}

/// Separators and currency proposed for a number column.
#[derive(Debug, Clone)]
pub struct NumberPlan {
    /// The feed column.
    pub column: &'static str,
    /// The decimal separator, where it is not a point.
    pub point: Option<char>,
    /// A thousands separator.
    pub thousands: Option<char>,
    /// A currency sign or code around the numbers.
    pub currency: Option<&'static str>,
}

/// Spellings proposed for a boolean column (only spellings shown: see [`MIN_SHOWN`]).
#[derive(Debug, Clone)]
pub struct BooleanPlan {
    /// The feed column.
    pub column: &'static str,
    /// Spellings of true, with times seen.
    pub yes: Vec<(String, usize)>,
    /// Spellings of false, with times seen.
    pub no: Vec<(String, usize)>,
    /// Spellings read as neither, shown, with times seen.
    pub unknown: Vec<(String, usize)>,
    /// Distinct spellings not shown, by reason.
    pub withheld: Withheld,
}

/// A possible placement: its score, the heading's and the column's positions, the name's score
/// and why, and the values' fit.
type Candidate = (f64, usize, usize, (f64, NameMatch), Option<f64>);

/// Scores every (heading, column) pair and places the best, each heading and column once. Only
/// headings that may be written are placed (`judged` is `None`): a mapping names its heading.
fn place(sample: &Sample, judged: &[Option<Unnamed>], feed: &'static FeedSchema) -> Vec<Placement> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for (j, heading) in sample.headings.iter().enumerate() {
        if judged.get(j).is_none_or(Option::is_some) {
            continue;
        }
        let column_values: Vec<&str> = sample.column(j).collect();
        for (i, col) in feed.columns.iter().enumerate() {
            let (name, why) = names::name_score(heading, col.name, col.description);
            let fit = (!column_values.is_empty()).then(|| values::fit(&column_values, &col.kind));
            // A partner's own codes fit no code of the feed until a value map translates them:
            // for a code column, a poor fit weighs less against a good name.
            let is_code = matches!(col.kind, Kind::Code(_));
            let mut score = match fit {
                None => 0.85 * name,
                Some(f) if f < 0.3 && is_code => 0.8 * name,
                Some(f) if f < 0.3 => 0.5 * name,
                Some(f) => name * (0.7 + 0.3 * f),
            };
            if values::telling(&col.kind) && fit.is_some_and(|f| f >= 0.9) {
                score = score.max(0.6 + 0.3 * name);
            }
            // Values that are the column's own codes, two or more of them (`ATTENDED`, `DNA`
            // under `Attendance`), tell the column as a heading partners write many ways does not.
            // (Not where the heading is itself one of them: a header that may be a record.)
            let heading_is_value = column_values.iter().any(|v| v.trim().eq_ignore_ascii_case(heading.trim()));
            if is_code && fit.is_some_and(|f| f >= 0.95) && distinct(&column_values) >= 2 && !heading_is_value {
                score = score.max(0.6 + 0.3 * name);
            }
            if score >= PLACE_AT {
                candidates.push((score, j, i, (name, why), fit));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut placed: Vec<Placement> = Vec::new();
    let (mut heading_used, mut column_used) = (vec![false; sample.headings.len()], vec![false; feed.columns.len()]);
    for (score, j, i, (name, why), fit) in candidates {
        if heading_used[j] || column_used[i] {
            continue;
        }
        heading_used[j] = true;
        column_used[i] = true;
        let confidence = if score >= 0.85 {
            Confidence::High
        } else if score >= 0.6 {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        placed.push(Placement {
            heading: sample.headings[j].clone(),
            index: j,
            column: feed.columns[i].name,
            confidence,
            by_name: why,
            name,
            fit,
        });
    }
    placed.sort_by_key(|p| p.index);
    placed
}

/// How many distinct values, as shown, `values` holds (at most three are counted).
fn distinct(values: &[&str]) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    for v in values {
        let v = v.trim();
        if !v.is_empty() && !seen.contains(&v) {
            seen.push(v);
            if seen.len() == 3 {
                break;
            }
        }
    }
    seen.len()
}

/// Whether a partner code may be written into the proposal.
fn shown(value: &str, times: usize) -> bool {
    times >= MIN_SHOWN && value.chars().count() <= MAX_SHOWN_LEN
}

/// The columns left out of a proposal, each with a feed column its values alone fit, if one no
/// heading took does: a blank heading over NHS numbers is worth a word to the reviewer.
fn unnamed_columns(
    sample: &Sample,
    judged: &[Option<Unnamed>],
    placed: &[Placement],
    feed: &'static FeedSchema,
) -> Vec<UnnamedColumn> {
    let mut taken: Vec<&'static str> = placed.iter().map(|p| p.column).collect();
    let mut out = Vec::new();
    for (index, why) in judged.iter().enumerate() {
        let Some(why) = *why else { continue };
        let vals: Vec<&str> = sample.column(index).collect();
        let fits = (!vals.is_empty())
            .then(|| {
                feed.columns.iter().find(|c| {
                    values::telling(&c.kind) && !taken.contains(&c.name) && values::fit(&vals, &c.kind) >= 0.9
                })
            })
            .flatten()
            .map(|c| c.name);
        taken.extend(fits);
        out.push(UnnamedColumn { index, why, fits });
    }
    out
}

/// Where the header of `sample` was read, for a message.
fn header_place(sample: &Sample) -> String {
    match &sample.sheet {
        Some(sheet) => format!("row {} of sheet {sheet:?}", sample.header_line),
        None => format!("line {}", sample.header_line),
    }
}

/// Profiles `sample` against `feed` and proposes a mapping; refuses a file whose header line
/// reads as a record ([`InferError::NoHeader`]), as every heading proposed would be a value.
pub fn infer(sample: Sample, feed: &'static FeedSchema) -> Result<Proposal, InferError> {
    // A header whose quoted headings hold line breaks is one record over several lines.
    let mut sample = reheader::multiline_header(sample);
    let footer_lines = footer::footer_lines(&sample);
    footer::drop_footer_rows(&mut sample, footer_lines);
    let null_values = missing::nulls_seen(&sample);
    missing::blank_nulls(&mut sample, &null_values);
    let mixed_encoding = missing::mixed_encoding(&sample);
    let mut judged = headings::judge(&sample);
    if let Some(r) = headings::record_like(&sample, &judged) {
        let where_ = header_place(&sample);
        return Err(InferError::NoHeader { path: sample.path, where_, like_values: r.like_values, cells: r.cells });
    }
    let placed = place(&sample, &judged, feed);
    // The headings no column took are written only if the header as a whole may be, and surely
    // is one: a forename alone reads like any column name, and only the rest of its line tells
    // it apart.
    let printable = headings::header_printable(&sample, &judged, &placed, feed);
    let surely = headings::surely_header(&placed);
    for (j, why) in judged.iter_mut().enumerate() {
        if why.is_none() && !placed.iter().any(|p| p.index == j) {
            *why = if !printable {
                Some(Unnamed::Withheld)
            } else if !surely {
                Some(Unnamed::Unsure)
            } else {
                headings::unplaced_withheld(&sample, j)
            };
        }
    }
    let unplaced: Vec<String> = sample
        .headings
        .iter()
        .enumerate()
        .filter(|(j, _)| judged[*j].is_none() && !placed.iter().any(|p| p.index == *j))
        .map(|(_, h)| h.clone())
        .collect();
    let unnamed = unnamed_columns(&sample, &judged, &placed, feed);
    let missing_required: Vec<&'static str> = feed
        .columns
        .iter()
        .filter(|c| c.required && !placed.iter().any(|p| p.column == c.name))
        .map(|c| c.name)
        .collect();
    let plans = plan_columns(&sample, &placed, feed);
    let withdrawal = withdrawal_marker(&sample, &judged, &placed);
    Ok(Proposal {
        feed,
        sample,
        placed,
        unplaced,
        unnamed,
        missing_required,
        dates: plans.dates,
        values: plans.values,
        numbers: plans.numbers,
        booleans: plans.booleans,
        withdrawal,
        null_values,
        mixed_encoding,
        footer_lines,
        sheet_choice: None,
    })
}

/// What the placed columns' values need: date formats, value maps, number forms, spellings.
#[derive(Default)]
struct Plans {
    dates: Vec<DatePlan>,
    values: Vec<ValuePlan>,
    numbers: Vec<NumberPlan>,
    booleans: Vec<BooleanPlan>,
}

/// The plans for each placed column of `sample` that needs one.
fn plan_columns(sample: &Sample, placed: &[Placement], feed: &'static FeedSchema) -> Plans {
    let guard = withhold::Guard::new(sample, placed, feed);
    let mut plans = Plans::default();
    for p in placed {
        let Some(col) = feed.column(p.column) else { continue };
        let vals: Vec<&str> = sample.column(p.index).collect();
        if vals.is_empty() {
            continue;
        }
        match &col.kind {
            Kind::Date | Kind::BirthDate => {
                let d = values::date_formats(&vals);
                if !d.formats.is_empty() {
                    let (formats, share, ambiguous) = (d.formats, d.share, d.ambiguous);
                    let two_digit_year = formats.iter().any(|f| values::two_digit_year(f));
                    let future = if two_digit_year { values::read_after(&vals, &formats, values::today()) } else { 0 };
                    let of = vals.len();
                    plans.dates.push(DatePlan {
                        column: p.column,
                        formats,
                        share,
                        of,
                        ambiguous,
                        two_digit_year,
                        future,
                    });
                }
            }
            Kind::Code(codes) => {
                let m = values::code_map(&vals, codes);
                if m.map.is_empty() && m.unmapped.is_empty() {
                    continue;
                }
                let mut withheld = Withheld::default();
                let map = guard.sift(m.map, |(v, _, n)| (v.as_str(), *n), (&vals, true), p, &mut withheld);
                let unmapped = guard.sift(m.unmapped, |(v, n)| (v.as_str(), *n), (&vals, false), p, &mut withheld);
                plans.values.push(ValuePlan { column: p.column, map, unmapped, withheld });
            }
            Kind::Decimal { .. } | Kind::Integer { .. } => {
                if let Some(f) = values::number_form(&vals, &col.kind) {
                    let (point, thousands, currency) = (f.point, f.thousands, f.currency);
                    plans.numbers.push(NumberPlan { column: p.column, point, thousands, currency });
                }
            }
            Kind::Boolean => {
                let b = values::boolean_spellings(&vals);
                if !b.needed {
                    continue;
                }
                let mut withheld = Withheld::default();
                // Spellings of true and false come from fixed lists: only rarity hides one. Any
                // other value could be anything, and is listed only as a code would be.
                let mut common = |list: Vec<(String, usize)>| {
                    let (kept, rare): (Vec<_>, Vec<_>) = list.into_iter().partition(|(v, n)| shown(v, *n));
                    withheld.rare += rare.len();
                    kept
                };
                let (yes, no) = (common(b.yes), common(b.no));
                let unknown = guard.sift(b.unknown, |(v, n)| (v.as_str(), *n), (&vals, false), p, &mut withheld);
                plans.booleans.push(BooleanPlan { column: p.column, yes, no, unknown, withheld });
            }
            _ => {}
        }
    }
    plans
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_extracts;
