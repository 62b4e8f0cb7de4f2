//! The sections of the page, top to bottom.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use super::chart::chart;
use super::html::{
    counts, end_flag, esc, files_cell, list, num, plural, review_flag, short_hash, standing_class, when,
};
use super::model::{FileRecord, Model, Tally, agreement_id};
use super::period::{Quarter, quarter_label};
use crate::audit::verify::{VerifyFailure, VerifyReport};

/// Most recent runs listed.
const MAX_RUNS: usize = 50;

pub(super) fn status(out: &mut String, verification: &Result<VerifyReport, VerifyFailure>) -> fmt::Result {
    match verification {
        Ok(r) => {
            write!(
                out,
                "<section class=\"status ok\"><strong>Verified.</strong> {} intact and in order; \
                 the signed head records entry {} (hash {}).",
                if r.entries == 1 {
                    "The log's 1 entry is".to_string()
                } else {
                    format!("All {} entries are", num(r.entries))
                },
                num(r.head_seq),
                short_hash(&r.head_hash)
            )?;
            if r.last_seq > r.head_seq {
                write!(
                    out,
                    " {} written after it not yet sealed by the head.",
                    plural(r.last_seq - r.head_seq, "entry was", "entries were")
                )?;
            }
            if r.files_checked > 0 {
                write!(
                    out,
                    " {} still held {} recorded SHA-256.",
                    plural(r.files_checked, "output file", "output files"),
                    if r.files_checked == 1 { "matches its" } else { "match their" }
                )?;
            } else {
                out.push_str(" No output files were re-hashed.");
            }
            out.push_str("</section>\n");
        }
        Err(f) => {
            writeln!(
                out,
                "<section class=\"status fail\"><strong>Verification FAILED:</strong> {}.<br>The log has been changed, \
                 cut short or reordered, or an output file no longer matches it. The figures below are read from the \
                 log as it now stands and cannot be relied on{}. Keep a copy of the log directory as it is and \
                 investigate before anything is written to it.</section>",
                esc(&f.to_string()),
                f.line().map_or(String::new(), |l| format!(" from line {l} onward"))
            )?;
        }
    }
    Ok(())
}

pub(super) fn how_to_read(out: &mut String) -> fmt::Result {
    out.push_str(
        "<section><h2>How to read this</h2>\
         <p>Every time tellonce takes in a partner's data it records, in a signed and chained audit log, which \
         Information Sharing Agreement (ISA) it relied on, how many records it received, how many passed into the \
         pseudonymised staging data and how many were quarantined (and why), which fields the agreement withheld, \
         and every file it wrote or later deleted. The box at the top says whether that log is intact.</p>\
         <p>To answer <em>“what did the police share with us last quarter, under which agreement, and what became \
         of it?”</em>: find the <code>police</code> row under <strong>Last quarter</strong>. <em>Under</em> names \
         the agreement and its version; <em>Received</em>, <em>Passed</em> and <em>Quarantined</em> count records; \
         <em>Files written</em> shows the staging and quarantine files holding them, and <em>Since deleted</em> \
         how many of those files have been removed at the end of retention or on erasure. The agreement’s own \
         section under <strong>By agreement</strong> has the same figures for every quarter, a monthly chart, and \
         each file with its retention date and fate.</p>\
         <p>Under <strong>Agreements</strong>, <em>Standing</em> is how the run judged the agreement on its as-of \
         date; the highlighted review and end dates are relative to the report date: amber when a review is due \
         within 60 days or the agreement ends within 90 days, red when the review is overdue or the agreement has \
         ended. <strong>Inputs not processed</strong> lists data held because its feed had no agreement in force, \
         or rejected whole (unreadable, malformed): nothing of it was written. Subject access and erasure lookups show the officer and case reference only, never who the \
         request was about.</p></section>\n",
    );
    Ok(())
}

pub(super) fn tally_header(out: &mut String, with_quarter: bool) {
    out.push_str("<table><thead><tr>");
    if with_quarter {
        out.push_str("<th>Quarter</th>");
    }
    out.push_str(
        "<th>Feed</th><th>Under</th><th>Batches</th><th>Received</th><th>Passed</th><th>Quarantined</th>\
         <th>Quarantine reasons</th><th>Fields nulled</th><th>Fields withheld</th><th>Files written</th><th>Since deleted</th></tr></thead><tbody>\n",
    );
}

pub(super) fn tally_row(
    out: &mut String,
    quarter: Option<Option<Quarter>>,
    feed: &str,
    under: &str,
    t: &Tally,
) -> fmt::Result {
    out.push_str("<tr>");
    if let Some(q) = quarter {
        write!(out, "<td>{}</td>", quarter_label(q))?;
    }
    let feed = if feed.is_empty() { "—".to_string() } else { esc(feed) };
    writeln!(
        out,
        "<td>{feed}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(under),
        num(t.batches),
        num(t.received),
        num(t.passed),
        num(t.quarantined),
        counts(&t.reasons),
        counts(&t.nulled),
        list(t.withheld.iter().map(String::as_str)),
        files_cell(&t.files),
        counts(&t.deleted),
    )
}

pub(super) fn last_quarter(out: &mut String, m: &Model<'_>, today: i32) -> fmt::Result {
    let q = Quarter::of_day(today).previous();
    writeln!(out, "<section><h2>Last quarter: {q} ({})</h2>", q.months())?;
    let mut rows: Vec<(&str, &str, &Tally)> = Vec::new();
    for per in m.tallies.values() {
        for ((quarter, feed, under), t) in per {
            if *quarter == Some(q) {
                rows.push((feed, under, t));
            }
        }
    }
    if rows.is_empty() {
        writeln!(out, "<p>No data was received or written under an agreement in {q}.</p></section>")?;
        return Ok(());
    }
    rows.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    tally_header(out, false);
    for (feed, under, t) in rows {
        tally_row(out, None, feed, under, t)?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn agreements(out: &mut String, m: &Model<'_>, today: i32) -> fmt::Result {
    out.push_str("<section><h2>Agreements</h2>\n");
    if m.agreements.is_empty() {
        out.push_str("<p>No agreement was loaded in this log.</p></section>\n");
        return Ok(());
    }
    out.push_str(
        "<p class=\"muted\">The latest version loaded of each agreement.</p>\
         <table><thead><tr><th>Agreement</th><th>Version</th><th>Feeds</th><th>Start</th><th>Review</th><th>End</th>\
         <th>Standing (as logged)</th><th>File</th><th>File SHA-256</th><th>Last loaded</th></tr></thead><tbody>\n",
    );
    for (id, a) in &m.agreements {
        let (review_class, review_note) = review_flag(a.review, today);
        let (end_class, end_note) = end_flag(a.end, today);
        let note = |s: String| if s.is_empty() { s } else { format!("<br><small>{}</small>", esc(&s)) };
        writeln!(
            out,
            "<tr><td><strong>{}</strong></td><td class=\"n\">{}</td><td>{}</td><td>{}</td>\
             <td class=\"{review_class}\">{}{}</td><td class=\"{end_class}\">{}{}</td><td class=\"{}\">{}</td>\
             <td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(id),
            a.version,
            list(a.feeds.iter().map(String::as_str)),
            esc(a.start),
            esc(a.review),
            note(review_note),
            esc(a.end),
            note(end_note),
            standing_class(a.standing),
            esc(&a.standing.replace('_', " ")),
            esc(a.file),
            short_hash(a.sha256),
            when(a.loaded_at),
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn by_agreement(out: &mut String, m: &Model<'_>) -> fmt::Result {
    out.push_str("<section><h2>By agreement</h2>\n");
    if m.agreement_ids.is_empty() {
        out.push_str("<p>No data was received under any agreement in this log.</p></section>\n");
        return Ok(());
    }
    for id in &m.agreement_ids {
        writeln!(out, "<h3>{}</h3>", esc(id))?;
        match m.agreements.get(id) {
            Some(a) => writeln!(
                out,
                "<p>Version {} governs {}; in force from {} to {}, review due {}.</p>",
                a.version,
                list(a.feeds.iter().map(String::as_str)),
                esc(a.start),
                esc(a.end),
                esc(a.review)
            )?,
            None => out.push_str("<p class=\"muted\">This agreement's loading is not recorded in this log.</p>\n"),
        }
        if let Some(months) = m.monthly.get(id) {
            chart(out, id, months)?;
        }
        match m.tallies.get(id) {
            Some(per) if !per.is_empty() => {
                tally_header(out, true);
                for ((quarter, feed, under), t) in per {
                    tally_row(out, Some(*quarter), feed, under, t)?;
                }
                out.push_str("</tbody></table>\n");
            }
            _ => out.push_str("<p>No batches or files recorded under this agreement.</p>\n"),
        }
        let files: Vec<&FileRecord<'_>> =
            m.files.iter().filter(|f| f.agreement.map(agreement_id) == Some(id)).collect();
        if !files.is_empty() {
            file_table(out, &format!("Files written under {} ({})", esc(id), num(files.len() as u64)), &files)?;
        }
    }
    out.push_str("</section>\n");
    Ok(())
}

pub(super) fn file_table(out: &mut String, summary: &str, files: &[&FileRecord<'_>]) -> fmt::Result {
    writeln!(
        out,
        "<details><summary>{summary}</summary><table><thead><tr><th>Written</th><th>Path</th><th>Dataset</th>\
         <th>Feed</th><th>Under</th><th>Rows</th><th>Bytes</th><th>SHA-256</th><th>Due for deletion</th><th>What became of it</th>\
         </tr></thead><tbody>"
    )?;
    for f in files {
        let fate = match f.fate {
            Some((at, "replaced")) => format!("replaced {}", when(at)),
            Some((at, reason)) => format!("deleted ({}) {}", esc(reason), when(at)),
            None => "held".to_string(),
        };
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{fate}</td></tr>",
            when(f.written_at),
            esc(f.path),
            esc(f.dataset),
            esc(f.feed.unwrap_or("—")),
            esc(f.agreement.unwrap_or("—")),
            num(f.rows),
            num(f.bytes),
            short_hash(f.sha256),
            esc(f.retention_until.unwrap_or("—")),
        )?;
    }
    out.push_str("</tbody></table></details>\n");
    Ok(())
}

pub(super) fn held(out: &mut String, m: &Model<'_>) -> fmt::Result {
    out.push_str(
        "<section><h2>Inputs not processed (held: no agreement in force; rejected: unreadable or malformed)</h2>\n",
    );
    if m.held.is_empty() {
        out.push_str("<p>None: every input was processed under an agreement in force.</p></section>\n");
        return Ok(());
    }
    out.push_str(
        "<p class=\"muted\">These inputs were left untouched and nothing of them was written.</p>\
         <table><thead><tr><th>When</th><th>Feed</th><th>Input</th><th>Reason</th><th>SHA-256</th></tr></thead><tbody>\n",
    );
    for (at, feed, input, reason, sha) in &m.held {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            when(at),
            esc(feed),
            esc(input),
            esc(reason),
            short_hash(sha)
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn linkage(out: &mut String, m: &Model<'_>) -> fmt::Result {
    out.push_str("<section><h2>Linkage builds</h2>\n");
    if m.builds.is_empty() {
        out.push_str("<p>No linkage build is recorded.</p></section>\n");
        return Ok(());
    }
    out.push_str(
        "<p class=\"muted\">Each build clusters the pseudonymised records into persons and families. Id changes \
         (merge, split, retired) are listed one by one in the log as <code>identity_changed</code> entries.</p>\
         <table><thead><tr><th>When</th><th>Run</th><th>Records</th><th>Persons</th><th>Families</th>\
         <th>Low evidence</th><th>Conflicts</th><th>Id changes</th><th>Feeds not linked</th>\
         <th>Officers' decisions</th></tr></thead><tbody>\n",
    );
    for b in &m.builds {
        let changes: BTreeMap<String, u64> = b.changes.iter().map(|((k, c), n)| (format!("{k} {c}"), *n)).collect();
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            when(b.at),
            esc(b.run),
            num(b.records),
            num(b.persons),
            num(b.families),
            num(b.low_evidence),
            num(b.conflicts),
            if changes.is_empty() { "none".to_owned() } else { counts(&changes) },
            if b.feeds_not_linked.is_empty() { "none".to_owned() } else { list(b.feeds_not_linked.iter().copied()) },
            b.decisions.map_or_else(|| "none".to_owned(), decisions),
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

/// What a build made of the officers' decisions, in one cell.
fn decisions(d: &crate::audit::LinkageDecisions) -> String {
    format!(
        "one person {} ({} linked, {} refused), two people {} ({} kept apart), {} not staged; <code>{}</code> \
         SHA-256 <code>{}</code>",
        num(d.same_person),
        num(d.linked),
        num(d.refused),
        num(d.not_same_person),
        num(d.kept_apart),
        num(d.not_found),
        esc(&d.path),
        esc(d.sha256.get(..12).unwrap_or(&d.sha256)),
    )
}

pub(super) fn datasets(out: &mut String, m: &Model<'_>) -> fmt::Result {
    out.push_str("<section><h2>Outputs by dataset</h2>\n");
    if m.files.is_empty() && m.orphan_deletions.is_empty() {
        out.push_str("<p>No output files are recorded.</p></section>\n");
        return Ok(());
    }
    /// files, rows, bytes, still held, reason -> ended
    type Row = (u64, u64, u64, u64, BTreeMap<String, u64>);
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for f in &m.files {
        let r = rows.entry(f.dataset).or_default();
        r.0 += 1;
        r.1 += f.rows;
        r.2 += f.bytes;
        match f.fate {
            None => r.3 += 1,
            Some((_, reason)) => *r.4.entry(reason.to_string()).or_default() += 1,
        }
    }
    out.push_str(
        "<table><thead><tr><th>Dataset</th><th>Files written</th><th>Rows</th><th>Bytes</th><th>Still held</th>\
         <th>Deleted or replaced</th></tr></thead><tbody>\n",
    );
    for (dataset, (files, rows_n, bytes, live, ended)) in &rows {
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td>{}</td></tr>",
            esc(dataset),
            num(*files),
            num(*rows_n),
            num(*bytes),
            num(*live),
            counts(ended)
        )?;
    }
    out.push_str("</tbody></table>\n");
    let unattributed: Vec<&FileRecord<'_>> = m.files.iter().filter(|f| f.agreement.is_none()).collect();
    if !unattributed.is_empty() {
        file_table(
            out,
            &format!("Files not tied to an agreement ({})", num(unattributed.len() as u64)),
            &unattributed,
        )?;
    }
    if !m.orphan_deletions.is_empty() {
        out.push_str(
            "<h3>Deletions of files written before this log began</h3>\
             <table><thead><tr><th>When</th><th>Path</th><th>Reason</th><th>Under</th></tr></thead><tbody>\n",
        );
        for (at, path, reason, under) in &m.orphan_deletions {
            writeln!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                when(at),
                esc(path),
                esc(reason),
                esc(under.unwrap_or("—"))
            )?;
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

pub(super) fn runs(out: &mut String, m: &Model<'_>) -> fmt::Result {
    out.push_str("<section><h2>Runs</h2>\n");
    if m.runs.is_empty() {
        out.push_str("<p>No runs are recorded.</p></section>\n");
        return Ok(());
    }
    let shown = m.runs.len().min(MAX_RUNS);
    writeln!(
        out,
        "<p class=\"muted\">{} recorded{}, most recent first.</p>\
         <table><thead><tr><th>Run</th><th>Command</th><th>Version</th><th>As of</th><th>Key</th><th>Started</th>\
         <th>Finished</th><th>Status</th><th>Received</th><th>Written</th><th>Quarantined</th><th>Inputs held</th>\
         </tr></thead><tbody>",
        plural(m.runs.len() as u64, "run", "runs"),
        if shown < m.runs.len() { format!("; the latest {shown} shown") } else { String::new() }
    )?;
    for r in m.runs.iter().rev().take(MAX_RUNS) {
        write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>",
            esc(r.run),
            esc(r.command),
            esc(r.version),
            esc(r.as_of),
            esc(r.key_id),
            r.started_at.map_or_else(|| "—".to_string(), when),
        )?;
        match &r.finished {
            Some(f) => {
                let class = if matches!(f.status, "failed" | "error" | "aborted" | "interrupted") { "bad" } else { "good" };
                writeln!(
                    out,
                    "<td>{}</td><td class=\"{class}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                     <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    when(f.at),
                    esc(f.status),
                    num(f.received),
                    num(f.written),
                    num(f.quarantined),
                    num(f.held)
                )?;
            }
            None => out.push_str(
                "<td>—</td><td class=\"warn\">did not finish (or still running)</td><td></td><td></td><td></td><td></td></tr>\n",
            ),
        }
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn keys(out: &mut String, m: &Model<'_>) -> fmt::Result {
    if m.keys.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<section><h2>Keys used</h2><p class=\"muted\">Public key fingerprints only; keys never leave the hub.</p>\
         <table><thead><tr><th>Key</th><th>Purposes</th></tr></thead><tbody>\n",
    );
    for (key, purposes) in &m.keys {
        writeln!(out, "<tr><td><code>{}</code></td><td>{}</td></tr>", esc(key), list(purposes.iter().copied()))?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn versions(out: &mut String, m: &Model<'_>) -> fmt::Result {
    let v = &m.versions;
    if v.unchanged + v.refused + v.superseded + v.withdrawn + v.older == 0 && m.reinstatements.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section><h2>Records re-sent</h2><p class=\"muted\">A partner record is known by its feed and record \
         reference across every input. Re-sent unchanged, it is not staged again; changed, its earlier version \
         moves from staging to the history dataset; absent from a partner's snapshot, or listed in its withdrawals \
         file, it is withdrawn (moved to history); erased or withdrawn before, it is refused; older than the \
         version held (an earlier extract run again), it is not staged.</p>\
         <table><thead><tr><th>Unchanged (not staged again)</th><th>Earlier versions moved to history</th>\
         <th>Withdrawn</th><th>Refused (tombstoned)</th><th>Older than held</th></tr></thead><tbody>\n\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n</tbody></table></section>",
        num(v.unchanged),
        num(v.superseded),
        num(v.withdrawn),
        num(v.refused),
        num(v.older)
    )?;
    if m.reinstatements.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<section><h3>Withdrawals lifted</h3><p class=\"muted\">Withdrawals an operator found mistaken \
         (<code>tellonce records reinstate</code>): the records are no longer refused, and the next input sending \
         one stages it as new. Erasures are never lifted.</p>\n<table><thead><tr><th>When</th><th>Feed</th>\
         <th>Records</th><th>Withdrawn by</th><th>Reason</th></tr></thead><tbody>\n",
    );
    for (at, feed, n, by, reason) in &m.reinstatements {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(at),
            esc(feed),
            num(*n),
            by.map_or_else(|| "the references given".to_owned(), |b| format!("<code>{}</code>", esc(b))),
            esc(reason)
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn mappings(out: &mut String, m: &Model<'_>) -> fmt::Result {
    if m.mappings.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<section><h2>Source mappings applied</h2><p class=\"muted\">Partner files read through a source mapping \
         (their headings, codes and formats translated to the feed's), by mapping content: a changed mapping \
         shows as a new row. Columns absent: feed columns whose mapped heading an input lacked, empty in \
         every record of it (the partner dropped or renamed the column).</p>\n<table><thead><tr><th>Feed</th>\
         <th>Mapping</th><th>SHA-256</th><th>Inputs</th><th>Last used</th><th>Columns absent</th></tr></thead>\
         <tbody>\n",
    );
    for ((feed, mapping, sha), used) in &m.mappings {
        let absent: Vec<String> =
            used.columns_absent.iter().map(|(c, n)| format!("{} ({} input(s))", esc(c), num(*n))).collect();
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(feed),
            esc(mapping),
            esc(sha.get(..16).unwrap_or(sha)),
            num(used.inputs),
            esc(used.last),
            if absent.is_empty() { "&mdash;".to_owned() } else { absent.join(", ") }
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn dead_letters(out: &mut String, m: &Model<'_>) -> fmt::Result {
    if m.dead_letters.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<section><h2>Sent to dead-letter topics</h2><p class=\"muted\">Quarantined stream messages also sent \
         to a Kafka topic, each sealed under the quarantine key as in the quarantine files: reasons and \
         offsets readable, contents not.</p>\
         <table><thead><tr><th>Dead-letter topic</th><th>From topic</th><th>Records</th></tr></thead><tbody>\n",
    );
    for ((dead, from), n) in &m.dead_letters {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            esc(dead),
            esc(from),
            num(*n)
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn resets(out: &mut String, m: &Model<'_>) -> fmt::Result {
    if m.resets.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<section><h2>Stream progress resets</h2><p class=\"muted\">Topics an operator declared deleted and \
         made again: their offsets count from 0 afresh, so the batches written before name other messages. \
         Those files and entries stay; the topic is read again from its start in a new epoch.</p>\
         <table><thead><tr><th>When</th><th>Topic</th><th>New epoch</th><th>Partitions</th>\
         <th>Offsets written before</th><th>Reason</th></tr></thead><tbody>\n",
    );
    for r in &m.resets {
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(r.at),
            esc(r.topic),
            r.epoch,
            r.partitions,
            num(r.durable),
            esc(r.reason)
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn missing_offsets(out: &mut String, m: &Model<'_>) -> fmt::Result {
    if m.missing_offsets.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<section><h2>Stream offsets the broker did not have</h2><p class=\"muted\">Asked for the first of \
         these offsets, the broker answered with a later one: retention removed them before they were read, \
         or compaction or transaction markers took them. No message of them was read, written or \
         quarantined.</p><table><thead><tr><th>When</th><th>Topic</th><th>Partition</th><th>Offsets</th>\
         <th>How many</th></tr></thead><tbody>\n",
    );
    for (at, topic, partition, first, last) in &m.missing_offsets {
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{partition}</td><td>{first}–{last}</td><td>{}</td></tr>",
            esc(at),
            esc(topic),
            num(last - first + 1)
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn repairs(out: &mut String, m: &Model<'_>) -> fmt::Result {
    if m.repairs.is_empty() {
        return Ok(());
    }
    out.push_str(
        "<section><h2>Audit log repairs</h2><p class=\"muted\">Torn final entries cut off the end of the log by \
         <code>tellonce audit repair</code>: a write cut short by a full disk or a power loss, never an entry the \
         log had acknowledged.</p><table><thead><tr><th>When</th><th>Line</th><th>Bytes cut</th><th>Why</th>\
         </tr></thead><tbody>\n",
    );
    for (at, line, bytes, reason) in &m.repairs {
        writeln!(out, "<tr><td>{}</td><td>{line}</td><td>{}</td><td>{}</td></tr>", esc(at), num(*bytes), esc(reason))?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

pub(super) fn lookups(out: &mut String, m: &Model<'_>) -> fmt::Result {
    out.push_str("<section><h2>Subject access, erasure and linkage lookups</h2>\n");
    if m.lookups.is_empty() {
        out.push_str("<p>None recorded.</p></section>\n");
        return Ok(());
    }
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for (_, _, _, kind, _, _) in &m.lookups {
        *by_kind.entry((*kind).to_string()).or_default() += 1;
    }
    writeln!(
        out,
        "<p>{}: {}. Officer and case reference only; the log never records who a request was about. For \
         <code>linkage_explained</code> (an officer asking why a record is linked as it is), records found are \
         the pairs shown.</p>\
         <table><thead><tr><th>When</th><th>Officer</th><th>Reference</th><th>Kind</th><th>Records found</th>\
         <th>Records erased</th></tr></thead><tbody>",
        plural(m.lookups.len() as u64, "lookup", "lookups"),
        counts(&by_kind)
    )?;
    for (at, officer, reference, kind, found, erased) in &m.lookups {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            when(at),
            esc(officer),
            esc(reference),
            esc(kind),
            num(*found),
            num(*erased)
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}
