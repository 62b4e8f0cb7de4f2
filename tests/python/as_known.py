#!/usr/bin/env python3
"""Runs the README's "as it was known on date D" query with DuckDB, as the README writes it
apart from its output folder, feed and date, and prints the records it returns.

usage: as_known.py README OUTPUT_DIR FEED DATE COLUMN

Prints one JSON list of [record_id, COLUMN] pairs, sorted. Used by the end-to-end tests
(tests/tests/e2e/records_over_time.rs); needs .ci/requirements.txt.
"""

import json
import pathlib
import re
import sys

import duckdb

# The line that opens the README's query, and the values it is written with.
OPENING = "-- police records as they were known at the end of January 2025"
DATE = "2025-01-31T23:59:59Z"


def readme_query(readme: pathlib.Path) -> str:
    blocks = re.findall(r"```sql\n(.*?)```", readme.read_text(encoding="utf-8"), flags=re.S)
    found = [b for b in blocks if b.startswith(OPENING)]
    if len(found) != 1:
        raise SystemExit(f"{readme}: {len(found)} sql blocks open with {OPENING!r}")
    return found[0].strip().rstrip(";")


def main() -> None:
    readme, out, feed, date, column = (
        pathlib.Path(sys.argv[1]),
        pathlib.Path(sys.argv[2]),
        sys.argv[3],
        sys.argv[4],
        sys.argv[5],
    )
    for part in (feed, date):
        if "'" in part:
            raise SystemExit("a quote in the feed or date")
    sql = readme_query(readme)
    for written, wanted in (("'output/", f"'{out.as_posix()}/"), (DATE, date), ("police", feed)):
        if written not in sql:
            raise SystemExit(f"the README's query no longer holds {written!r}")
        sql = sql.replace(written, wanted)
    rows = duckdb.sql(f"SELECT record_id, {column} FROM ({sql}) ORDER BY 1").fetchall()
    print(json.dumps([list(r) for r in rows]))


if __name__ == "__main__":
    main()
