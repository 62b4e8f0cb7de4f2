//! Parquet sink tests: write, commit, read back with parquet's own reader.

use std::collections::HashMap;
use std::fs;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int64Array, StringArray, new_null_array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;

use super::*;

fn schema() -> SchemaRef {
    let described = |name: &str, t: DataType, d: &str| {
        Field::new(name, t, true).with_metadata(HashMap::from([(DESCRIPTION_KEY.to_owned(), d.to_owned())]))
    };
    Arc::new(Schema::new(vec![
        described("record_id", DataType::Utf8, "The partner's record id."),
        described("count", DataType::Int64, "How many."),
        Field::new("undocumented", DataType::Utf8, true),
    ]))
}

fn batch(schema: &SchemaRef, from: i64, n: i64) -> RecordBatch {
    let ids: StringArray = (from..from + n).map(|i| Some(format!("R{i}"))).collect();
    let counts: Int64Array = (from..from + n).map(|i| (i % 3 != 0).then_some(i)).collect();
    let none = new_null_array(&DataType::Utf8, n as usize);
    RecordBatch::try_new(schema.clone(), vec![Arc::new(ids) as ArrayRef, Arc::new(counts), none]).unwrap()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn options() -> PartOptions {
    PartOptions {
        row_group_rows: 4,
        row_group_bytes: 32 << 20,
        zstd_level: 3,
        metadata: vec![("tellonce.key_id".to_owned(), "k-2025-01".to_owned())],
        replace_existing: false,
    }
}

#[test]
fn two_batches_commit_and_read_back() {
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    let mut w = PartWriter::create(
        root.path(),
        "staging",
        &[("feed", "police"), ("version", "1")],
        "part-ab12-00000.parquet",
        schema.clone(),
        &options(),
    )
    .unwrap();
    let dir = root.path().join("staging/feed=police/version=1");
    assert_eq!(listing(&dir), [".part-ab12-00000.parquet.tmp"], "only a hidden temp file until commit");
    w.write(&batch(&schema, 0, 5)).unwrap();
    w.write(&batch(&schema, 5, 3)).unwrap();
    assert_eq!(w.rows(), 8);
    let committed = w.commit().unwrap();

    assert_eq!(committed.path, "staging/feed=police/version=1/part-ab12-00000.parquet");
    assert_eq!(committed.rows, 8);
    assert_eq!(listing(&dir), ["part-ab12-00000.parquet"], "temp file gone");
    let path = root.path().join(&committed.path);
    assert_eq!(committed.bytes, fs::metadata(&path).unwrap().len());
    assert_eq!(committed.sha256, sha256_file(&path).unwrap());

    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
    let meta = reader.metadata().clone();
    let kv: HashMap<String, Option<String>> = meta
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect();
    assert_eq!(kv["tellonce.description.record_id"].as_deref(), Some("The partner's record id."));
    assert_eq!(kv["tellonce.description.count"].as_deref(), Some("How many."));
    assert!(!kv.contains_key("tellonce.description.undocumented"));
    assert_eq!(kv["tellonce.key_id"].as_deref(), Some("k-2025-01"));
    assert!(kv.contains_key("ARROW:schema"));
    assert_eq!(meta.num_row_groups(), 2, "row groups of at most 4 rows: 4 + 4");
    assert!(meta.row_groups().iter().all(|rg| rg.num_rows() <= 4));
    assert!(matches!(meta.row_group(0).column(0).compression(), Compression::ZSTD(_)));

    let read_schema = reader.schema().clone();
    assert_eq!(read_schema.fields().len(), 3);
    assert_eq!(
        read_schema.field(0).metadata().get(DESCRIPTION_KEY).map(String::as_str),
        Some("The partner's record id.")
    );
    assert_eq!(read_schema.field(1).data_type(), &DataType::Int64);
    let batches: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 8);
    let ids: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_any().downcast_ref::<StringArray>().unwrap().clone();
            (0..a.len()).map(move |i| a.value(i).to_owned())
        })
        .collect();
    assert_eq!(ids, (0..8).map(|i| format!("R{i}")).collect::<Vec<_>>());
    let counts = batches[0].column(1).as_any().downcast_ref::<Int64Array>().unwrap();
    assert!(counts.is_null(0) && counts.value(1) == 1);
}

#[test]
fn the_staging_schema_of_every_feed_can_be_written() {
    let root = tempfile::tempdir().unwrap();
    for feed in tellonce_schemas::feed::all() {
        let schema = Arc::new(tellonce_schemas::staging::schema(feed));
        let columns = schema.fields().iter().map(|f| new_null_array(f.data_type(), 3)).collect();
        let b = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let mut w = PartWriter::create(
            root.path(),
            "staging",
            &[("feed", feed.name)],
            "p.parquet",
            schema.clone(),
            &PartOptions::default(),
        )
        .unwrap();
        w.write(&b).unwrap();
        let c = w.commit().unwrap();
        let file = File::open(root.path().join(&c.path)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let kv = reader.metadata().file_metadata().key_value_metadata().unwrap().clone();
        for f in schema.fields() {
            let key = format!("{DESCRIPTION_META_PREFIX}{}", f.name());
            assert!(kv.iter().any(|e| e.key == key), "{}: {key}", feed.name);
        }
    }
}

#[test]
fn a_writer_dropped_without_commit_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    let mut w =
        PartWriter::create(root.path(), "staging", &[("feed", "camhs")], "p.parquet", schema.clone(), &options())
            .unwrap();
    w.write(&batch(&schema, 0, 10)).unwrap();
    drop(w);
    assert!(listing(&root.path().join("staging/feed=camhs")).is_empty());

    // A failed write (wrong schema) poisons the writer: commit refuses, and nothing is left.
    let mut w =
        PartWriter::create(root.path(), "staging", &[("feed", "camhs")], "p.parquet", schema.clone(), &options())
            .unwrap();
    let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    let wrong = RecordBatch::try_new(other, vec![Arc::new(Int64Array::from(vec![1])) as ArrayRef]).unwrap();
    assert!(matches!(w.write(&wrong), Err(SinkError::Write { .. })));
    assert!(matches!(w.commit(), Err(SinkError::Write { .. })));
    assert!(listing(&root.path().join("staging/feed=camhs")).is_empty());
}

#[test]
fn commit_into_a_read_only_directory_fails_clearly() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    let mut w =
        PartWriter::create(root.path(), "staging", &[("feed", "police")], "p.parquet", schema.clone(), &options())
            .unwrap();
    w.write(&batch(&schema, 0, 3)).unwrap();
    let dir = root.path().join("staging/feed=police");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions: then the final name is made unusable another way that binds
    // root too (a non-empty directory there), so that the commit still has to fail clearly.
    let enforced = File::create(dir.join("probe")).is_err();
    if !enforced {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        fs::remove_file(dir.join("probe")).unwrap();
        fs::create_dir(dir.join("p.parquet")).unwrap();
        fs::write(dir.join("p.parquet/occupied"), b"").unwrap();
    }
    let result = w.commit();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let err = result.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SinkError::Io { .. } | SinkError::Exists { .. }), "{msg}");
    assert!(msg.contains("p.parquet"), "{msg}");
    if enforced {
        assert!(msg.contains("ermission denied"), "{msg}");
        assert!(!dir.join("p.parquet").exists());
    } else {
        assert!(dir.join("p.parquet").is_dir(), "the commit replaced what stood at its name");
    }
    // Nothing half-written is left beside it.
    let leftovers: Vec<_> = listing(&dir).into_iter().filter(|n| n.contains(".tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_replay_may_rewrite_an_identical_file_but_never_a_different_one() {
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    let write = |n: i64| {
        let mut w =
            PartWriter::create(root.path(), "staging", &[("feed", "police")], "p.parquet", schema.clone(), &options())
                .unwrap();
        w.write(&batch(&schema, 0, n)).unwrap();
        w.commit()
    };
    let first = write(5).unwrap();
    let again = write(5).unwrap();
    assert_eq!(first, again);
    let err = write(6).unwrap_err();
    assert!(matches!(err, SinkError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("p.parquet"));
    let dir = root.path().join("staging/feed=police");
    assert_eq!(listing(&dir), ["p.parquet"], "no temp file left");
    assert_eq!(sha256_file(&dir.join("p.parquet")).unwrap(), first.sha256, "the first file is untouched");

    // A directory in the way is "exists" too, even for root.
    fs::create_dir_all(dir.join("q.parquet/inside")).unwrap();
    let mut w =
        PartWriter::create(root.path(), "staging", &[("feed", "police")], "q.parquet", schema.clone(), &options())
            .unwrap();
    w.write(&batch(&schema, 0, 1)).unwrap();
    assert!(matches!(w.commit(), Err(SinkError::Exists { .. })));
}

#[test]
fn bad_names_and_options_are_refused_before_anything_is_written() {
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    let o = options();
    let create = |dataset: &str, part: &[(&str, &str)], name: &str, o: &PartOptions| {
        PartWriter::create(root.path(), dataset, part, name, schema.clone(), o)
    };
    for (dataset, part, name) in [
        ("..", &[("feed", "police")][..], "p.parquet"),
        ("staging", &[("feed", "../x")][..], "p.parquet"),
        ("staging", &[("a=b", "x")][..], "p.parquet"),
        ("staging", &[("feed", "police")][..], "a/p.parquet"),
        ("staging", &[("feed", "police")][..], ""),
    ] {
        assert!(matches!(create(dataset, part, name, &o), Err(SinkError::Create { .. })), "{dataset} {part:?} {name}");
    }
    let bad_level = PartOptions { zstd_level: 99, ..options() };
    assert!(matches!(create("staging", &[("feed", "police")], "p.parquet", &bad_level), Err(SinkError::Write { .. })));
    assert!(listing(&root.path().join("staging/feed=police")).is_empty());
    assert_eq!(
        PartOptions::default(),
        PartOptions {
            row_group_rows: 131_072,
            row_group_bytes: 32 << 20,
            zstd_level: 1,
            metadata: vec![],
            replace_existing: false
        }
    );
}

#[test]
fn a_row_group_closes_at_its_byte_budget_before_its_row_limit() {
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    // A budget of one byte: every batch written closes its row group, whatever the row limit.
    let opts = PartOptions { row_group_rows: 1_000, row_group_bytes: 1, ..options() };
    let mut w =
        PartWriter::create(root.path(), "staging", &[("feed", "police")], "p.parquet", schema.clone(), &opts).unwrap();
    for from in [0, 10, 20] {
        w.write(&batch(&schema, from, 10)).unwrap();
    }
    let committed = w.commit().unwrap();
    let file = File::open(root.path().join(&committed.path)).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().metadata().clone();
    let rows: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
    assert_eq!(rows, [10, 10, 10]);
    assert_eq!(committed.rows, 30);
}

#[test]
fn committed_file_serialises() {
    let c = CommittedFile { path: "staging/feed=x/p.parquet".into(), rows: 1, bytes: 2, sha256: "ab".into() };
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(json, r#"{"path":"staging/feed=x/p.parquet","rows":1,"bytes":2,"sha256":"ab"}"#);
    assert_eq!(serde_json::from_str::<CommittedFile>(&json).unwrap(), c);
}

#[test]
fn a_staged_part_is_invisible_until_published_and_removed_if_dropped() {
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    let dir = root.path().join("staging/feed=police");
    let stage = |name: &str| {
        let mut w = PartWriter::create(root.path(), "staging", &[("feed", "police")], name, schema.clone(), &options())
            .unwrap();
        w.write(&batch(&schema, 0, 3)).unwrap();
        w.finish().unwrap()
    };
    let kept = stage("a.parquet");
    let dropped = stage("b.parquet");
    assert!(listing(&dir).iter().all(|n| n.starts_with('.')), "nothing visible before publish: {:?}", listing(&dir));
    drop(dropped);
    let file = kept.publish().unwrap();
    assert_eq!(file.rows, 3);
    assert_eq!(listing(&dir), ["a.parquet"], "the dropped part left no temp file");
}

#[test]
fn a_forced_rerun_may_replace_a_different_file() {
    let root = tempfile::tempdir().unwrap();
    let schema = schema();
    let write = |n: i64, replace: bool| {
        let opts = PartOptions { replace_existing: replace, ..options() };
        let mut w =
            PartWriter::create(root.path(), "staging", &[("feed", "police")], "p.parquet", schema.clone(), &opts)
                .unwrap();
        w.write(&batch(&schema, 0, n)).unwrap();
        w.commit()
    };
    write(5, false).unwrap();
    assert!(matches!(write(6, false), Err(SinkError::Exists { .. })));
    let replaced = write(6, true).unwrap();
    assert_eq!(replaced.rows, 6);
    let on_disk = sha256_file(&root.path().join("staging/feed=police/p.parquet")).unwrap();
    assert_eq!(on_disk, replaced.sha256);
}
