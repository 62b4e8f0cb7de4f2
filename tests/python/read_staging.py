#!/usr/bin/env python3
"""Reads tellonce's staging Parquet, unmodified, with DuckDB and pyarrow, and prints what each sees.

usage: read_staging.py OUTPUT_DIR FEED COLUMN

Prints one JSON object:
  duckdb            {feed: rows} from read_parquet(staging/*/*.parquet, hive_partitioning, union_by_name)
  duckdb_full_scan  {feed: rows} from SELECT * over one feed's files, every column decoded
  pyarrow           {feed: rows} from pyarrow.dataset over staging/ with hive partitioning
  pyarrow_full_scan {feed: rows} from pyarrow.dataset over one feed's directory, every column decoded
  description       COLUMN's description in FEED's files: the footer key-value metadata read by
                    pyarrow and by DuckDB's parquet_kv_metadata, and the Arrow field metadata
  key_ids           the distinct tellonce.key_id values in the footers
Used by the end-to-end tests (tests/tests/e2e/engines.rs); needs .ci/requirements.txt.
"""

import json
import pathlib
import sys

import duckdb
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def main() -> None:
    out = pathlib.Path(sys.argv[1]).resolve()
    feed, column = sys.argv[2], sys.argv[3]
    staging = out / "staging"
    feed_dirs = sorted(p for p in staging.iterdir() if p.is_dir() and p.name.startswith("feed="))
    feeds = [p.name.split("=", 1)[1] for p in feed_dirs]
    con = duckdb.connect()

    everything = sql_string(str(staging / "*" / "*.parquet"))
    duck = dict(
        con.execute(
            f"SELECT feed, count(*) FROM read_parquet({everything}, hive_partitioning = true, union_by_name = true) "
            "GROUP BY feed ORDER BY feed"
        ).fetchall()
    )
    duck_full = {}
    for f, d in zip(feeds, feed_dirs):
        rows = con.execute(
            f"SELECT * FROM read_parquet({sql_string(str(d / '*.parquet'))}, hive_partitioning = true)"
        ).fetchall()
        duck_full[f] = len(rows)

    dataset = ds.dataset(str(staging), format="parquet", partitioning="hive")
    counts = pc.value_counts(dataset.to_table(columns=["feed"])["feed"])
    arrow = {c["values"].as_py(): c["counts"].as_py() for c in counts}
    arrow_full = {f: ds.dataset(str(d), format="parquet").to_table().num_rows for f, d in zip(feeds, feed_dirs)}

    key = f"tellonce.description.{column}"
    files = sorted((staging / f"feed={feed}").glob("[!.]*.parquet"))
    kv = [pq.read_metadata(str(p)).metadata.get(key.encode()) for p in files]
    field = [pq.read_schema(str(p)).field(column).metadata.get(b"description") for p in files]
    duck_kv = [
        row[0]
        for p in files
        for row in con.execute(
            f"SELECT value FROM parquet_kv_metadata({sql_string(str(p))}) WHERE key = {sql_string(key)}"
        ).fetchall()
    ]
    decode = lambda v: v.decode() if isinstance(v, (bytes, bytearray)) else v
    key_ids = sorted(
        {
            decode(pq.read_metadata(str(p)).metadata.get(b"tellonce.key_id"))
            for d in feed_dirs
            for p in d.glob("[!.]*.parquet")
        }
    )
    print(
        json.dumps(
            {
                "duckdb": duck,
                "duckdb_full_scan": duck_full,
                "pyarrow": arrow,
                "pyarrow_full_scan": arrow_full,
                "description": {
                    "feed": feed,
                    "column": column,
                    "files": len(files),
                    "pyarrow_kv": [decode(v) for v in kv],
                    "duckdb_kv": [decode(v) for v in duck_kv],
                    "arrow_field": [decode(v) for v in field],
                },
                "key_ids": key_ids,
            },
            indent=2,
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
