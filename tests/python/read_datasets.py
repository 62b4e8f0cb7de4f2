#!/usr/bin/env python3
"""Reads every dataset of a tellonce output with DuckDB, Polars and pyarrow, as analysts would,
decoding every column, and prints the rows each engine saw.

Usage: read_datasets.py OUTPUT_DIR DATASET...

Prints JSON: {dataset: {"duckdb": rows, "polars": rows, "pyarrow": rows, "columns": [names]}}.
Partitioned datasets (theme_events/headline=…/month=…/, aggregates/table=…/) are read with
hive partitioning, so the partition keys come back as columns.
"""
import json
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as ds


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = Path(sys.argv[1]).resolve()
    seen = {}
    con = duckdb.connect()
    for name in sys.argv[2:]:
        root = out / name
        pattern = str(root / "**" / "*.parquet")
        # Every column decoded: the engines are asked for the whole table, not a count from
        # the footers.
        duck = con.sql(f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true)").to_arrow_table()
        polars = pl.scan_parquet(pattern, hive_partitioning=True).collect()
        arrow = ds.dataset(str(root), format="parquet", partitioning="hive").to_table()
        seen[name] = {
            "duckdb": duck.num_rows,
            "polars": polars.height,
            "pyarrow": arrow.num_rows,
            "columns": sorted(arrow.column_names),
        }
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
