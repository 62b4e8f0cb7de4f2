//! Configuration parsing and validation: every problem at once, each naming its setting.

use super::*;
use tellonce_connectors::file_source::{DelimiterChoice, Dialect, EncodingChoice, FileFormat};

fn parse(text: &str) -> Result<Settings, Vec<String>> {
    Settings::parse(text, Path::new("/base")).map_err(|e| match e {
        Problems::Syntax(m) => vec![m],
        Problems::Invalid(p) => p,
    })
}

#[test]
fn a_minimal_config_resolves_paths_against_its_directory() {
    let s = parse(
        r#"
        output = { dir = "out" }
        keys = { file = "/keys/k.key" }
        [[sources]]
        feed = "police"
        path = "in/police.jsonl"
        "#,
    )
    .unwrap();
    assert_eq!(s.output_dir, Path::new("/base/out"));
    assert_eq!(s.key_file, Path::new("/keys/k.key"));
    assert_eq!(s.sources[0].path, Path::new("/base/in/police.jsonl"));
    assert_eq!(s.sources[0].format, FileFormat::JsonLines);
    assert_eq!(s.batch_rows, 8192);
    assert_eq!(s.agreements_dir, Path::new("/base/agreements"));
}

#[test]
fn an_output_dir_that_is_or_holds_the_config_inputs_or_keys_is_refused() {
    let config = |dir: &str, key: &str, source: &str| {
        format!(
            "output = {{ dir = {dir:?} }}\nkeys = {{ file = {key:?} }}\n[[sources]]\nfeed = \"police\"\npath = {source:?}\n"
        )
    };
    let cases = [
        ("", "k/t.key", "in/p.csv", "output.dir is empty"),
        ("  ", "k/t.key", "in/p.csv", "output.dir is empty"),
        (".", "k/t.key", "in/p.csv", "is the config file's directory"),
        ("./out/..", "k/t.key", "in/p.csv", "is the config file's directory"),
        ("in", "k/t.key", "in/p.csv", "is the folder of sources[0].path"),
        ("in/./", "k/t.key", "in/p.csv", "is the folder of sources[0].path"),
        ("data", "k/t.key", "data/in/p.csv", "contains the folder of sources[0].path"),
        ("k", "k/t.key", "in/p.csv", "contains keys.file"),
        ("/", "k/t.key", "in/p.csv", "contains the config file's directory"),
        ("..", "k/t.key", "in/p.csv", "contains the config file's directory"),
        ("agreements", "k/t.key", "in/p.csv", "is governance.agreements"),
    ];
    for (dir, key, source, want) in cases {
        let problems = parse(&config(dir, key, source)).unwrap_err();
        assert!(problems.iter().any(|p| p.contains(want)), "{dir:?}: {problems:?}");
    }
    // Beside the inputs, or below the config's directory, is fine.
    assert!(parse(&config("out", "k/t.key", "in/p.csv")).is_ok());
    assert!(parse(&config("in/out", "k/t.key", "in/p.csv")).is_ok());
    assert!(parse(&config("/elsewhere/out", "k/t.key", "in/p.csv")).is_ok());
}

#[test]
fn every_problem_is_reported_at_once() {
    let problems = parse(
        r#"
        output = { dir = "out" }
        keys = { file = "k" }
        limits = { batch_rows = 0 }
        [[sources]]
        feed = "polce"
        path = "a.csv"
        [[sources]]
        feed = "camhs"
        path = "b.pdf"
        [[sources]]
        feed = "camhs"
        path = "c.csv"
        schema_version = 9
        "#,
    )
    .unwrap_err();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("sources[0].feed") && p.contains("police")));
    assert!(problems.iter().any(|p| p.contains("sources[1].format")));
    assert!(problems.iter().any(|p| p.contains("sources[2].schema_version")));
    assert!(problems.iter().any(|p| p.contains("limits.batch_rows")));
}

#[test]
fn unknown_keys_are_reported_with_every_other_problem() {
    let err = parse(
        "output = { dir = \"o\", colour = \"blue\" }\nkeys = { file = \"k\" }\nextra = 1\n\
         limits = { batch_rows = 0 }\n[[sources]]\nfeed = \"polce\"\npath = \"a.csv\"\nwhat = 2\n",
    )
    .unwrap_err();
    assert_eq!(err.len(), 5, "{err:#?}");
    for want in ["output.colour", "unknown key extra", "sources[0].what", "limits.batch_rows", "sources[0].feed"] {
        assert!(err.iter().any(|p| p.contains(want)), "missing {want}: {err:#?}");
    }
}

#[test]
fn a_path_listed_twice_is_reported_even_if_its_first_entry_is_invalid() {
    let err = parse(
        "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"camhs\"\npath = \"c.csv\"\n\
         schema_version = 9\n[[sources]]\nfeed = \"camhs\"\npath = \"c.csv\"\n",
    )
    .unwrap_err();
    assert_eq!(err.len(), 2, "{err:#?}");
}

#[test]
fn a_source_may_name_a_mapping_and_a_dialect() {
    let s = parse(
        "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\npath = \"h.csv\"\n\
         mapping = \"maps/housing.toml\"\ndelimiter = \"|\"\nencoding = \"auto\"\nskip_lines = 2\n\
         [[sources]]\nfeed = \"police\"\npath = \"p.csv\"\n",
    )
    .unwrap();
    let r = s.reading(&s.sources[0]);
    assert_eq!(r.mapping.as_deref(), Some(Path::new("/base/maps/housing.toml")));
    let d = r.dialect(None).unwrap();
    assert_eq!((d.delimiter, d.encoding, d.skip_lines), (DelimiterChoice::Byte(b'|'), EncodingChoice::Auto, 2));
    assert_eq!(s.reading(&s.sources[1]), Reading::default());
    assert_eq!(s.reading(&s.sources[1]).dialect(None).unwrap(), Dialect::default(), "no mapping: as today");
    let err = parse(
        "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\npath = \"h.csv\"\n\
         delimiter = \":\"\nencoding = \"ebcdic\"\n[[sources]]\nfeed = \"police\"\npath = \"p.jsonl\"\nskip_lines = 1\n",
    )
    .unwrap_err();
    assert_eq!(err.len(), 3, "{err:#?}");
}

#[test]
fn a_source_path_may_be_a_pattern() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["housing-2024-12.csv", "housing-2025-01.csv", ".housing-2025-02.csv", "notes.txt"] {
        std::fs::write(dir.path().join(name), "x").unwrap();
    }
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    // Excel's lock file beside a workbook someone has open.
    std::fs::create_dir(dir.path().join("drop")).unwrap();
    for name in ["cases.xlsx", "~$cases.xlsx"] {
        std::fs::write(dir.path().join("drop").join(name), "x").unwrap();
    }
    let config = dir.path().join("tellonce.toml");
    let text = "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\n\
                path = \"housing-*.csv\"\nmapping = \"m.toml\"\n[[sources]]\nfeed = \"police\"\n\
                path = \"empty/*.jsonl\"\n";
    let drop = "[[sources]]\nfeed = \"education\"\npath = \"drop/*.xlsx\"\n";
    std::fs::write(&config, format!("{text}{drop}")).unwrap();
    let s = Settings::load(&config).unwrap();
    let paths: Vec<_> = s.sources.iter().map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        paths,
        ["housing-2024-12.csv", "housing-2025-01.csv", "cases.xlsx"],
        "sorted, hidden and lock files left out"
    );
    assert!(s.sources[..2].iter().all(|src| s.reading(src).mapping == Some(dir.path().join("m.toml"))));
    assert_eq!(s.unmatched_patterns[0].path, dir.path().join("empty/*.jsonl"));
    let twice = format!("{text}[[sources]]\nfeed = \"housing\"\npath = \"housing-2025-01.csv\"\n");
    std::fs::write(&config, twice).unwrap();
    let err = Settings::load(&config).unwrap_err().to_string();
    assert!(err.contains("listed already"), "{err}");
    let bad = parse(
        "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[[sources]]\nfeed = \"housing\"\npath = \"a[.csv\"\n",
    )
    .unwrap_err();
    assert!(bad[0].contains("not a valid pattern"), "{bad:#?}");
}

#[test]
fn stream_settings_are_checked_together() {
    let base = "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n";
    let good = parse(&format!(
        "{base}[stream]\nbrokers = \"b:9092\"\nmetrics_address = \"0.0.0.0:9898\"\n\
         [[stream.topics]]\ntopic = \"police.incidents\"\nfeed = \"police\"\n"
    ))
    .unwrap();
    let st = good.stream.unwrap();
    assert_eq!(st.metrics_address.as_deref(), Some("0.0.0.0:9898"));
    assert_eq!((st.max_batch_rows, st.max_batch_ms), (50_000, 1_000));
    let err = parse(&format!(
        "{base}[stream]\nbrokers = \"b:9092\"\nmax_batch_ms = 0\nmetrics_address = \"9898\"\n\
         [stream.properties]\n\"enable.auto.commit\" = \"true\"\n\
         [[stream.topics]]\ntopic = \"police incidents\"\nfeed = \"police\"\n"
    ))
    .unwrap_err();
    assert_eq!(err.len(), 4, "{err:#?}");
    for want in ["max_batch_ms", "metrics_address", "enable.auto.commit", "not a Kafka topic name"] {
        assert!(err.iter().any(|p| p.contains(want)), "missing {want}: {err:#?}");
    }
}

#[test]
fn dead_letter_and_topic_names_are_checked() {
    let base = "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n";
    let topics = "[[stream.topics]]\ntopic = \"police.incidents\"\nfeed = \"police\"\n";
    let good = parse(&format!("{base}[stream]\nbrokers = \"b:9092\"\ndead_letter_topic = \"tellonce.dead\"\n{topics}"))
        .unwrap();
    assert_eq!(good.stream.unwrap().dead_letter_topic.as_deref(), Some("tellonce.dead"));
    for (dead, want) in [("..", "not a Kafka topic name"), ("Police.Incidents", "one of the topics consumed")] {
        let err = parse(&format!("{base}[stream]\nbrokers = \"b:9092\"\ndead_letter_topic = \"{dead}\"\n{topics}"))
            .unwrap_err();
        assert_eq!(err.len(), 1, "{err:#?}");
        assert!(err[0].contains(want) && err[0].contains("dead_letter_topic"), "{err:#?}");
    }
    let err = parse(&format!(
        "{base}[stream]\nbrokers = \"b:9092\"\n{topics}[[stream.topics]]\ntopic = \"POLICE.incidents\"\nfeed = \"camhs\"\n"
    ))
    .unwrap_err();
    assert_eq!(err.len(), 1, "{err:#?}");
    assert!(err[0].contains("only in case") && err[0].contains("stream.topics[1]"), "{err:#?}");
}

#[test]
fn unknown_keys_of_nested_sections_name_the_keys_the_section_takes() {
    let err = parse(
        "output = { dir = \"o\" }\nkeys = { file = \"k\" }\n[outcomes.disclosure]\nthreshold = 6\nrounding = 5\n\
         [outcomes.eligibility]\nneeds = 2\n[stream]\nbrokers = \"b:9092\"\nspeed = 1\n[[stream.topics]]\n\
         topic = \"t\"\nfeed = \"police\"\npriority = 1\n[stream.properties]\n\"fetch.min.bytes\" = \"1\"\n",
    )
    .unwrap_err();
    for want in [
        "unknown key outcomes.disclosure.rounding; expected one of: threshold, rounding_base",
        "unknown key outcomes.eligibility.needs; expected one of: min_needs, count, require_child",
        "unknown key stream.speed; expected one of: brokers,",
        "unknown key stream.topics[0].priority; expected one of: topic, feed, schema_version",
    ] {
        assert!(err.iter().any(|p| p.starts_with(want)), "missing {want}: {err:#?}");
    }
    // Free-form librdkafka properties are not keys of tellonce's.
    assert!(!err.iter().any(|p| p.contains("fetch.min.bytes")), "{err:#?}");
    assert_eq!(err.len(), 4, "{err:#?}");
}
