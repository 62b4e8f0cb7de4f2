//! Tests of the rendered page.

use std::collections::BTreeMap;

use tellonce_schemas::identifiers::dates;

use super::html::{num, when};
use super::period::{Month, Quarter};
use super::render_html;
use crate::audit::entry::{Entry, Event, PartitionOffset};
use crate::audit::testutil::{sample_events, signer, write_sample_log};
use crate::audit::verify::{VerifyFailure, VerifyReport};
use crate::audit::{ChangeKind, read_entries, verify};

fn entry(seq: u64, at: &str, event: Event) -> Entry {
    Entry { seq, at: at.to_string(), prev: "0".repeat(64), event, line: seq }
}

fn batch(feed: &str, under: &str, received: u64, quarantined: u64) -> Event {
    Event::BatchDecided {
        feed: feed.into(),
        agreement: under.into(),
        input: format!("in/{feed}.csv"),
        first_position: 2,
        last_position: received + 1,
        received,
        passed: received - quarantined,
        quarantined,
        reasons: BTreeMap::from([("nhs.checksum".to_string(), quarantined)]),
        fields_dropped: vec!["free_text".into()],
        // One field in a hundred records nulled (a pseudo-postcode, say).
        nulled: BTreeMap::from([("postcode:postcode.no_fixed_abode".to_string(), received / 100)]),
    }
}

fn written(path: &str, feed: &str, under: &str, rows: u64) -> Event {
    Event::FileWritten {
        dataset: "staging".into(),
        path: path.into(),
        sha256: "ab".repeat(32),
        rows,
        bytes: 1000,
        feed: Some(feed.into()),
        agreement: Some(under.into()),
        retention_until: Some("2033-01-01".into()),
    }
}

fn loaded(id: &str, version: u32, feed: &str, review: &str, end: &str) -> Event {
    Event::AgreementLoaded {
        id: id.into(),
        version,
        file: format!("agreements/{id}.toml"),
        sha256: "cd".repeat(32),
        feeds: vec![feed.into()],
        start: "2024-04-01".into(),
        review: review.into(),
        end: end.into(),
        standing: "in_force".into(),
    }
}

fn sample() -> Vec<Entry> {
    vec![
        entry(1, "2026-08-03T09:00:00Z", loaded("ISA-POLICE", 3, "police", "2026-12-01", "2027-03-31")),
        entry(2, "2026-08-03T09:00:01Z", loaded("ISA-CAMHS", 1, "camhs", "2027-09-01", "2028-03-31")),
        entry(3, "2026-08-03T09:01:00Z", batch("police", "ISA-POLICE@3", 1200, 14)),
        entry(4, "2026-08-03T09:01:05Z", written("staging/feed=police/part-1.parquet", "police", "ISA-POLICE@3", 1186)),
        entry(5, "2026-09-10T09:01:00Z", batch("police", "ISA-POLICE@3", 800, 2)),
        entry(6, "2026-10-05T09:01:00Z", batch("police", "ISA-POLICE@3", 950, 0)),
        entry(7, "2026-10-06T09:01:00Z", batch("camhs", "ISA-CAMHS@1", 40, 1)),
        entry(
            8,
            "2026-11-01T00:00:00Z",
            Event::FileDeleted {
                path: "staging/feed=police/part-1.parquet".into(),
                sha256: "ab".repeat(32),
                reason: "erasure".into(),
                agreement: Some("ISA-POLICE@3".into()),
            },
        ),
        entry(
            9,
            "2026-11-02T00:00:00Z",
            Event::InputHeld {
                feed: "housing".into(),
                input: "in/housing.csv".into(),
                sha256: "ef".repeat(32),
                reason: "no agreement in force".into(),
            },
        ),
        entry(
            10,
            "2026-11-03T00:00:00Z",
            Event::SubjectLookup {
                officer: "dpo.lee".into(),
                reference: "SAR-17".into(),
                kind: "erasure".into(),
                records_found: 3,
                records_erased: 3,
            },
        ),
    ]
}

fn ok() -> Result<VerifyReport, VerifyFailure> {
    Ok(VerifyReport { entries: 10, files_checked: 1, last_seq: 10, head_seq: 10, head_hash: "12".repeat(32) })
}

/// 2026-11-23
fn today() -> i32 {
    dates::parse("2026-11-23").unwrap()
}

#[test]
fn renders_one_self_contained_document() {
    let html = render_html(&sample(), &ok(), today());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<html").count(), 1);
    assert_eq!(html.matches("</html>").count(), 1);
    assert!(!html.contains("src="));
    assert!(!html.contains("href="));
    assert!(!html.contains("http"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(html.contains("How to read this"));
    assert!(html.contains("status ok") && html.contains("Verified."));
}

#[test]
fn shows_agreements_quarters_and_charts() {
    let html = render_html(&sample(), &ok(), today());
    for needle in ["ISA-POLICE", "ISA-CAMHS", "ISA-POLICE@3", "2026 Q3", "2026 Q4", "Last quarter: 2026 Q3"] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("2026-08") && html.contains("2026-09") && html.contains("2026-10"));
    // Q3 police: two batches, 2,000 received, 16 quarantined, one file later erased.
    assert!(html.contains("<td class=\"n\">2,000</td>"));
    assert!(html.contains("nhs.checksum 16"));
    assert!(html.contains("<th>Fields nulled</th>") && html.contains("postcode:postcode.no_fixed_abode 20"));
    assert!(html.contains("erasure 1"));
    assert!(html.contains("deleted (erasure)"));
    assert!(html.contains("free_text"));
    // Review of ISA-POLICE (2026-12-01) is within 60 days; its end (2027-03-31) is not within 90.
    assert!(html.contains("review due within 60 days (8 days)"));
    assert!(!html.contains("ends within 90 days ("));
    assert!(html.contains("in/housing.csv"));
    assert!(html.contains("dpo.lee") && html.contains("SAR-17"));
}

#[test]
fn counts_what_stream_batches_sent_to_dead_letter_topics() {
    let committed = |topic: &str, dead: &str, n: u64| Event::StreamBatchCommitted {
        run: "s1".into(),
        topic: topic.into(),
        partition: 0,
        first_offset: 0,
        last_offset: 99,
        written: 100 - n,
        quarantined: n,
        files: vec![],
        dead_letter_topic: dead.into(),
        dead_lettered: n,
        first_timestamp: None,
        last_timestamp: None,
        epoch: 0,
    };
    let without = render_html(&sample(), &ok(), today());
    assert!(!without.contains("dead-letter topics"));
    let mut entries = sample();
    entries.push(entry(20, "2026-11-02T10:00:00Z", committed("police.incidents", "dlq", 3)));
    entries.push(entry(21, "2026-11-02T10:00:01Z", committed("police.incidents", "dlq", 4)));
    entries.push(entry(22, "2026-11-02T10:00:02Z", committed("camhs.referrals", "", 0)));
    let html = render_html(&entries, &ok(), today());
    assert!(html.contains("Sent to dead-letter topics"));
    assert!(html.contains("<td><code>dlq</code></td><td><code>police.incidents</code></td><td>7</td>"), "{html}");
    assert!(!html.contains("<code>camhs.referrals</code>"));
}

#[test]
fn highlights_overdue_reviews_and_ended_agreements() {
    let entries = vec![
        entry(1, "2026-01-01T00:00:00Z", loaded("OLD", 1, "district", "2026-06-01", "2026-10-31")),
        entry(2, "2026-01-01T00:00:00Z", loaded("SOON", 1, "education", "2027-06-01", "2027-01-31")),
    ];
    let html = render_html(&entries, &ok(), today());
    assert!(html.contains("review overdue by 175 days"));
    assert!(html.contains("ended 23 days ago"));
    assert!(html.contains("ends within 90 days (69 days)"));
    assert!(html.contains("class=\"bad\"") && html.contains("class=\"warn\""));
}

#[test]
fn escapes_everything_from_the_log() {
    let mut entries = sample();
    entries.push(entry(
        11,
        "2026-11-04T00:00:00Z",
        Event::SubjectLookup {
            officer: "<script>alert(1)</script>".into(),
            reference: "\"><img src=x onerror=alert(1)>".into(),
            kind: "access".into(),
            records_found: 0,
            records_erased: 0,
        },
    ));
    entries.push(entry(12, "2026-11-05T00:00:00Z", batch("po<b>lice", "<i>X</i>@1", 5, 0)));
    let html = render_html(&entries, &ok(), today());
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&quot;&gt;&lt;img src=x"));
    assert!(!html.contains("<b>") && !html.contains("<i>X"));
    assert!(html.contains("&lt;i&gt;X&lt;/i&gt;"));
}

#[test]
fn a_failed_verification_is_shown_in_red_with_its_message() {
    let failure = Err(VerifyFailure::Changed { line: 5, seq: 5, how: ChangeKind::Mac });
    let html = render_html(&sample(), &failure, today());
    assert!(html.contains("status fail"));
    assert!(html.contains("line 5 (entry 5): entry changed (its MAC does not match)"));
    assert!(html.contains("from line 5 onward"));
    assert!(!html.contains("status ok"));
}

#[test]
fn renders_an_empty_log_and_a_real_one() {
    let html = render_html(&[], &ok(), today());
    assert!(html.contains("No agreement was loaded"));
    assert!(!html.contains("<svg"));

    let dir = tempfile::tempdir().unwrap();
    write_sample_log(dir.path(), sample_events().len() * 2);
    let entries = read_entries(dir.path()).unwrap();
    let verdict = verify(dir.path(), &signer(), None);
    assert!(verdict.is_ok());
    let html = render_html(&entries, &verdict, dates::today());
    assert!(html.contains("ISA-POL") && html.contains("<svg") && html.contains("j.smith"));
    // A file written twice to the same path: the first is shown as replaced.
    assert!(html.contains("replaced "));
}

#[test]
fn numbers_and_periods_format() {
    assert_eq!(num(0), "0");
    assert_eq!(num(999), "999");
    assert_eq!(num(1000), "1,000");
    assert_eq!(num(1_234_567), "1,234,567");
    let q = Quarter::of_day(dates::parse("2026-01-15").unwrap());
    assert_eq!(q.to_string(), "2026 Q1");
    assert_eq!(q.previous().to_string(), "2025 Q4");
    assert_eq!(Quarter::of_day(dates::parse("2026-12-31").unwrap()).to_string(), "2026 Q4");
    assert_eq!(Month { year: 2026, month: 12 }.next().to_string(), "2027-01");
    assert_eq!(when("2026-11-23T09:41:07Z"), "2026-11-23 09:41 UTC");
}

#[test]
fn lists_stream_progress_resets_with_their_reasons() {
    let without = render_html(&sample(), &ok(), today());
    assert!(!without.contains("Stream progress resets"));
    let mut entries = sample();
    entries.push(entry(
        20,
        "2026-11-02T10:00:00Z",
        Event::StreamProgressReset {
            run: "r1".into(),
            topic: "police.incidents".into(),
            epoch: 2,
            reason: "topic recreated <by ops>".into(),
            durable_offsets: vec![
                PartitionOffset { partition: 0, offset: 1200 },
                PartitionOffset { partition: 1, offset: 34 },
            ],
        },
    ));
    let html = render_html(&entries, &ok(), today());
    assert!(html.contains("Stream progress resets"));
    assert!(
        html.contains(
            "<td><code>police.incidents</code></td><td>2</td><td>2</td><td>1,234</td><td>topic recreated &lt;by ops&gt;</td>"
        ),
        "{html}"
    );
}

#[test]
fn lists_stream_offsets_the_broker_did_not_have() {
    let without = render_html(&sample(), &ok(), today());
    assert!(!without.contains("did not have"));
    let mut entries = sample();
    entries.push(entry(
        20,
        "2026-11-02T10:00:00Z",
        Event::StreamOffsetsMissing {
            run: "s1".into(),
            topic: "police.incidents".into(),
            partition: 2,
            first_offset: 100,
            last_offset: 1299,
            epoch: 0,
        },
    ));
    let html = render_html(&entries, &ok(), today());
    assert!(html.contains("Stream offsets the broker did not have"));
    assert!(html.contains("<td><code>police.incidents</code></td><td>2</td><td>100–1299</td><td>1,200</td>"), "{html}");
}
