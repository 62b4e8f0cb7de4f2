//! A proposal written as a source mapping file, every choice explained in a comment for the
//! person who reviews it.

use std::fmt::Write as _;

use super::{Confidence, NameMatch, Proposal, Unnamed, Withheld};
use crate::file_source::Encoding;
use crate::file_source::dialect::EncodingEvidence;

/// A TOML basic string on one line (quoted and escaped): usable as a key, and inside a comment.
/// A line break or another control character (a heading typed with Alt+Enter in a workbook)
/// is escaped, never written: TOML refuses a key written over several lines, and a comment
/// ends at a line break.
pub(super) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A partner's heading as a TOML key: its runs of white space (a line break in a workbook's
/// heading cell, a tab, a doubled space) written as one space, then quoted. A run matches a
/// heading ignoring case, spaces and punctuation, so the key matches the heading as the file
/// writes it, and the reviewer reads it on one line.
fn heading(h: &str) -> String {
    quoted(&h.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// The mapping file text of `p`; `source` names the file profiled in the header comment.
pub fn render(p: &Proposal, source: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Proposed by `tellonce sources infer` from {source} ({} rows sampled) for feed {}.\n\
         # A proposal, not a decision: review every line against the partner's data dictionary,\n\
         # then check it with `tellonce sources check`. Confidence: high (name and values agree),\n\
         # medium (likely), low (check it first).",
        p.sample.rows.len(),
        p.feed.name
    );
    let _ = writeln!(s, "feed = {}", quoted(p.feed.name));
    if p.unplaced.is_empty() {
        s.push_str("ignore = []\n");
    } else {
        s.push_str(
            "\n# Headings not placed on any feed column. A run drops them and reports them as unknown;\n\
             # map one under [columns], or list it here to drop it on purpose.\n",
        );
        for h in &p.unplaced {
            let _ = writeln!(s, "#   {}", heading(h));
        }
        s.push_str("ignore = []\n");
    }
    render_unnamed(p, &mut s);
    render_file(p, &mut s);
    render_columns(p, &mut s);
    render_values(p, &mut s);
    render_dates(p, &mut s);
    render_numbers(p, &mut s);
    render_booleans(p, &mut s);
    render_withdrawal(p, &mut s);
    s
}

/// The columns left out, by position (from 1, as a spreadsheet user counts them), never by their
/// heading: a blank one has none, and one that looks like a value may be one.
fn render_unnamed(p: &Proposal, s: &mut String) {
    if p.unnamed.is_empty() {
        return;
    }
    s.push_str(
        "\n# Columns left out: a mapping places a column by its heading, and these have none that can be\n\
         # written here. A run drops a column with a blank heading and reports any other as unknown. Ask\n\
         # the partner to name a blank one; for one withheld, read its heading in the file and, if it is\n\
         # a heading, map it under [columns].\n",
    );
    for u in &p.unnamed {
        let why = match u.why {
            Unnamed::Blank => "has no heading",
            Unnamed::ValueShaped => {
                "heading not shown: it looks like a value (a date, a number, an identifier, a reference or a name)"
            }
            Unnamed::ColumnValue => "heading not shown: it is also one of the values in its column",
            Unnamed::Withheld => {
                "heading not shown: not every heading of this header reads as a column name, so it may be a record"
            }
            Unnamed::Unsure => {
                "heading not shown: too few headings of this line name a feed column, so it may be a record"
            }
        };
        let fits = u.fits.map_or_else(String::new, |c| format!("; its values fit {c}"));
        let _ = writeln!(s, "#   column {} {why}{fits}", u.index + 1);
    }
}

/// Comment lines saying how many values were not listed and why, never which.
fn render_withheld(w: &Withheld, what: &str, s: &mut String) {
    if w.total() == 0 {
        return;
    }
    let _ = writeln!(s, "# {} more distinct {what} not shown here:", w.total());
    let reasons = [
        (
            w.weak_heading,
            "the column's heading does not clearly name the field: it may hold anything, names included".to_owned(),
        ),
        (
            w.too_many,
            format!("the column holds more than {} distinct values, too many for a code list", super::MAX_CODES),
        ),
        (
            w.unrepeated,
            "more than half the column's values are distinct, as names and references are and codes are not".to_owned(),
        ),
        (w.shaped, "shaped like an identifier, a date or a postcode".to_owned()),
        (w.identifying, "also values of a column placed on a name, date of birth, address or identifier".to_owned()),
        (w.name_shaped, "shaped like a person's name, in a column not placed with high confidence".to_owned()),
        (w.rare, format!("seen fewer than {} times or longer than a code", super::MIN_SHOWN)),
    ];
    for (n, why) in reasons {
        if n > 0 {
            let _ = writeln!(s, "#   {n}: {why}");
        }
    }
}

fn render_withdrawal(p: &Proposal, s: &mut String) {
    let Some(w) = &p.withdrawal else { return };
    let seen = w.values.iter().map(|(v, n)| format!("{} {n}", quoted(v))).collect::<Vec<_>>().join(", ");
    let list = w.values.iter().map(|(v, _)| quoted(v)).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        s,
        "\n# {} looks like a withdrawal marker (times seen: {seen}). If the partner marks records it\n\
         # takes back this way (sent in error, merged, deleted at source), uncomment these lines: a row\n\
         # so marked withdraws its record, and no later extract brings it back. A closed case is not\n\
         # a withdrawal.\n\
         # [withdrawal]\n\
         # column = {}\n\
         # values = [{list}]",
        heading(&w.heading),
        heading(&w.heading)
    );
}

fn render_file(p: &Proposal, s: &mut String) {
    let sample = &p.sample;
    let mut lines = Vec::new();
    if let Some(d) = sample.delimiter.filter(|d| *d != b',') {
        let name = if d == b'\t' { "tab".to_owned() } else { char::from(d).to_string() };
        lines.push(format!("delimiter = {}", quoted(&name)));
    }
    match (sample.encoding, &p.mixed_encoding) {
        (Some(e), Some(mix)) => lines.push(format!("encoding = {}  # {}", quoted(e.as_str()), mixed_note(e, mix))),
        (Some(e), None) if e != Encoding::Utf8 => {
            lines.push(format!("encoding = {}  # the file is not valid UTF-8", quoted(e.as_str())));
        }
        _ => {}
    }
    if sample.skip_lines > 0 {
        let what = if sample.format.is_workbook() { "sheet rows" } else { "lines" };
        lines.push(format!("skip_lines = {}  # {what} before the header", sample.skip_lines));
    }
    if p.footer_lines > 0 {
        lines.push(format!(
            "footer_lines = {}  # lines below the table that are no records (a total, a \"run by\" line): left unread",
            p.footer_lines
        ));
    }
    if let Some(sheet) = &sample.sheet {
        let chosen = p.sheet_choice.as_ref().map_or_else(String::new, |c| {
            let placed = p.placed.len();
            let left: Vec<String> = c.left.iter().map(|(name, n)| format!("{} ({n} placed)", quoted(name))).collect();
            format!("  # the sheet whose header places the most headings ({placed}); left: {}", left.join(", "))
        });
        lines.push(format!("sheet = {}{chosen}", quoted(sheet)));
    }
    if !p.null_values.is_empty() {
        let list: Vec<String> = p.null_values.iter().map(|n| quoted(n.spelling)).collect();
        let seen: Vec<String> = p
            .null_values
            .iter()
            .map(|n| format!("{} in {} columns, {} times", n.spelling, n.columns, n.times))
            .collect();
        lines.push(format!(
            "null_values = [{}]  # seen {}: cells so written are read as empty, in every column",
            list.join(", "),
            seen.join("; ")
        ));
    }
    if !lines.is_empty() {
        s.push_str("\n[file]\n");
        for l in lines {
            let _ = writeln!(s, "{l}");
        }
    }
}

/// The comment on the encoding of a file that mixes valid UTF-8 with bytes that are not.
fn mixed_note(read_as: Encoding, mix: &EncodingEvidence) -> String {
    let from = mix.first_invalid_line.map_or_else(String::new, |l| format!(", the first on line {l}"));
    if read_as == Encoding::Utf8 {
        let utf8 = match mix.utf8_characters {
            0 => "a UTF-8 byte order mark".to_owned(),
            n => format!("{n} UTF-8 characters of several bytes (accents)"),
        };
        format!(
            "the file mixes encodings: {utf8}, but {} byte sequence(s) that are not UTF-8{from}; their \
             records are quarantined (encoding.invalid_utf8): ask the partner to resend them",
            mix.invalid_sequences
        )
    } else {
        format!(
            "the file is not valid UTF-8 ({} byte sequence(s){from}), though {} UTF-8 character(s) of several \
             bytes are in it, too few to read it as UTF-8: CHECK its accented names",
            mix.invalid_sequences, mix.utf8_characters
        )
    }
}

fn render_columns(p: &Proposal, s: &mut String) {
    s.push_str("\n# Partner heading = feed column.\n[columns]\n");
    for pl in &p.placed {
        let why = match pl.by_name {
            NameMatch::Same => "its own name",
            NameMatch::Known => "a heading partners use for it",
            NameMatch::Words => "words in common",
            NameMatch::Description => "its words are in the column's description",
            NameMatch::None => "its values alone",
        };
        let fit = pl.fit.map_or_else(|| "no value sampled".to_owned(), |f| format!("{} of values fit", percent(f)));
        let flag = if pl.confidence == Confidence::Low { "  CHECK" } else { "" };
        let _ = writeln!(
            s,
            "{} = {}  # {}: {why}; {fit}{flag}",
            heading(&pl.heading),
            quoted(pl.column),
            pl.confidence.as_str()
        );
    }
    if !p.missing_required.is_empty() {
        s.push_str(
            "\n# Required feed columns no heading was placed on: map a heading above, or, if the partner\n\
             # never sends it, give the value every record takes.\n# [constants]\n",
        );
        for c in &p.missing_required {
            let _ = writeln!(s, "# {c} = \"\"");
        }
    }
}

fn render_values(p: &Proposal, s: &mut String) {
    for v in &p.values {
        if v.map.is_empty() && v.unmapped.is_empty() && v.withheld.total() == 0 {
            continue;
        }
        let _ = writeln!(s, "\n# Partner codes of {} and the feed code each stands for.", v.column);
        // An empty table is refused: with nothing to map yet, the table is left for the reviewer.
        let open = if v.map.is_empty() { "# " } else { "" };
        let _ = writeln!(s, "{open}[values.{}]", v.column);
        for (from, to, n) in &v.map {
            let _ = writeln!(s, "{} = {}  # seen {n} times", quoted(from), quoted(to));
        }
        for (from, n) in &v.unmapped {
            let _ = writeln!(
                s,
                "# {} = \"\"  # seen {n} times: no code found; map it, or its records quarantine",
                quoted(from)
            );
        }
        if v.withheld.total() > 0 {
            render_withheld(&v.withheld, "value(s)", s);
            s.push_str("# `tellonce sources check` counts any the map leaves out.\n");
        }
    }
}

fn render_dates(p: &Proposal, s: &mut String) {
    if p.dates.is_empty() {
        return;
    }
    s.push_str("\n# Date formats, tried in order (\"excel\" is an Excel serial day number).\n[dates]\n");
    for d in &p.dates {
        let formats: Vec<String> = d.formats.iter().map(|f| quoted(f)).collect();
        let value = if formats.len() == 1 { formats[0].clone() } else { format!("[{}]", formats.join(", ")) };
        let mut note = String::new();
        if d.ambiguous {
            note.push_str("; no day above 12 was seen, so day-first (UK) is assumed: CHECK");
        }
        if d.two_digit_year {
            let _ = write!(note, "; two-digit years, {} of {} read as after today: CHECK", d.future, d.of);
            // Said above the line, so that the reviewer reads why before the format.
            let _ = writeln!(
                s,
                "# {}: a two-digit year (%y) reads 00-69 as 20xx and 70-99 as 19xx, so a year of birth 1965\n\
                 # written 65 reads as 2065, and a date after today is refused (date.in_future, the field\n\
                 # nulled). Ask the partner for four-digit years.",
                d.column
            );
        }
        let _ = writeln!(s, "{} = {value}  # reads {} of {} sampled values{note}", d.column, percent(d.share), d.of);
    }
}

fn render_numbers(p: &Proposal, s: &mut String) {
    for n in &p.numbers {
        let _ = writeln!(s, "\n# The sampled values of {} need these to read as numbers.", n.column);
        let _ = writeln!(s, "[decimals.{}]", n.column);
        if let Some(c) = n.point {
            let _ = writeln!(s, "decimal_separator = {}", quoted(&c.to_string()));
        }
        if let Some(c) = n.thousands {
            let _ = writeln!(s, "thousands_separator = {}", quoted(&c.to_string()));
        }
        match n.currency {
            Some("%") => {
                let _ = writeln!(
                    s,
                    "currency_symbol = \"%\"  # a per cent sign after the number, removed: 93.1% reads 93.1"
                );
            }
            Some(c) => {
                let _ = writeln!(s, "currency_symbol = {}", quoted(c));
            }
            None => {}
        }
    }
}

fn render_booleans(p: &Proposal, s: &mut String) {
    let list = |v: &[(String, usize)]| v.iter().map(|(x, _)| quoted(x)).collect::<Vec<_>>().join(", ");
    let seen =
        |v: &[(String, usize)]| v.iter().map(|(x, n)| format!("{} {n}", quoted(x))).collect::<Vec<_>>().join(", ");
    for b in &p.booleans {
        let _ = writeln!(
            s,
            "\n# Spellings of true and false in {} (times seen: {}).",
            b.column,
            seen(&[b.yes.clone(), b.no.clone()].concat())
        );
        // A table needs a spelling of each: with one side unseen it is left for the reviewer.
        let open = if b.yes.is_empty() || b.no.is_empty() { "# " } else { "" };
        let _ = writeln!(s, "{open}[booleans.{}]", b.column);
        let _ = writeln!(s, "{open}true = [{}]", list(&b.yes));
        let _ = writeln!(s, "{open}false = [{}]", list(&b.no));
        for (v, n) in &b.unknown {
            let _ = writeln!(
                s,
                "# {} seen {n} times: neither true nor false; add it to one, or its records are judged by the column's rule",
                quoted(v)
            );
        }
        render_withheld(&b.withheld, "spelling(s)", s);
    }
}
