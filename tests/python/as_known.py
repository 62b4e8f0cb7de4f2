#!/usr/bin/env python3
"""Runs the README's "as it was known on date D" query with DuckDB, unmodified apart from its
feed and date, and prints the records it returns.

usage: as_known.py OUTPUT_DIR FEED DATE COLUMN

Prints one JSON list of [record_id, COLUMN] pairs, sorted. Used by the end-to-end tests
(tests/tests/e2e/records_over_time.rs); needs .ci/requirements.txt.
"""

import json
import pathlib
import sys

import duckdb

# The README's query (section "Partner records over time"), with its feed and date as parameters.
QUERY = """
WITH arrived AS (
  SELECT _input FROM read_parquet('{out}/arrivals/*.parquet') WHERE arrived_at <= '{date}'
)
SELECT * EXCLUDE (_superseded_at, _superseded_by, _change)
FROM read_parquet('{out}/history/feed={feed}/*.parquet', union_by_name = true)
WHERE _superseded_at > '{date}' AND _input IN (SELECT _input FROM arrived)
UNION ALL BY NAME
SELECT * FROM read_parquet('{out}/staging/feed={feed}/*.parquet', union_by_name = true)
WHERE _input IN (SELECT _input FROM arrived)
"""


def main() -> None:
    out, feed, date, column = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    for part in (feed, date):
        if "'" in part:
            raise SystemExit("a quote in the feed or date")
    sql = QUERY.format(out=out.as_posix(), feed=feed, date=date)
    rows = duckdb.sql(f"SELECT record_id, {column} FROM ({sql}) ORDER BY 1").fetchall()
    print(json.dumps([list(r) for r in rows]))


if __name__ == "__main__":
    main()
