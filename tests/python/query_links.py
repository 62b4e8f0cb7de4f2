"""Reads links/ with DuckDB as an analyst would, joined to the staging dataset.

Usage: query_links.py OUTPUT_DIR. Prints JSON: distinct persons per feed, persons known to
three or more feeds, and how many staging rows find their link.
"""
import json
import sys

import duckdb

out = sys.argv[1]
con = duckdb.connect()
links = f"read_parquet('{out}/links/*/*.parquet', hive_partitioning = true)"
staging = f"read_parquet('{out}/staging/*/*.parquet', hive_partitioning = true, union_by_name = true)"
per_feed = dict(con.execute(f"SELECT feed, count(DISTINCT person_id) FROM {links} GROUP BY feed").fetchall())
three_plus = con.execute(
    f"SELECT count(*) FROM (SELECT person_id FROM {links} GROUP BY person_id HAVING count(DISTINCT feed) >= 3)"
).fetchone()[0]
joined = con.execute(
    f"SELECT count(*) FROM {staging} s JOIN {links} l ON s.feed = l.feed AND s.record_id = l.record_ref"
).fetchone()[0]
print(json.dumps({"persons_by_feed": per_feed, "persons_3plus": three_plus, "joined": joined}))
