"""Runs the documented outcome queries and checks their answers against the synthetic truth.

Usage: outcome_queries.py OUTPUT_DIR SYNTH_DIR

OUTPUT_DIR is what `tellonce run` wrote; SYNTH_DIR is what `tellonce synth` wrote (inputs/ in
clear, truth/records.csv, reference/postcode_lookup.csv).

1. Every SQL block of docs/outcome-queries.md marked `<!-- query: NAME -->` is run with DuckDB
   as it is written, with `demo-out/output` replaced by OUTPUT_DIR.
2. The same answers are worked out here without reading anything the pipeline derived: the clear
   partner files are read again, the theme mapping (pipeline/themes/supporting_families.toml) is
   applied to them by an evaluator written here, and records are grouped by their TRUE person and
   family from truth/records.csv. Only the run's parameters (reference date, period) are read
   from the output's metadata.
3. The two are compared column by column: exactly where the answer does not depend on linkage,
   within a stated tolerance where it counts distinct persons or families.

Prints a report per query and, on its last line, a JSON summary. Exits 1 on any mismatch.
"""

import calendar
import csv
import datetime as dt
import json
import re
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "outcome-queries.md"
THEMES = REPO / "pipeline" / "themes" / "supporting_families.toml"
DOC_OUTPUT = "demo-out/output"
QUERY_NAMES = [
    "needs_by_district",
    "deprivation",
    "needs_by_locality",
    "attendance_by_cohorts",
    "known_to_three_agencies",
    "eligible_families",
    "early_help_rereferrals",
    "early_help_episodes",
    "family_outcomes",
    "return_after_success",
    "re_referrals",
]

# The column holding each feed's event date (`event_date` in the feed definitions,
# schemas/feeds/*.toml and, for feeds that are not built in, schemas/feeds/examples/*.toml).
EVENT_DATE = {
    "health_visiting": "contact_date",
    "camhs": "referral_received_date",
    "police": "incident_date",
    "youth_justice": "offence_date",
    "housing": "approach_date",
    "district": "event_date",
    "education": "event_date",
    "substance_misuse": "referral_date",
}
CHILD_BANDS = ("0-4", "5-10", "11-15", "16-17")
# How the pipeline reads a boolean (schemas/src/check.rs), whatever the case.
TRUE_WORDS = {"true", "yes", "y", "1", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "f"}

# How far a count may be from the truth: (relative tolerance, absolute slack); the larger wins.
#
# Counts of events and records do not depend on linkage and must be exact. A count of distinct
# persons or families is off by one wherever linkage splits one person (family) into two ids or
# merges two. On the synthetic data linkage has a pairwise F1 of about 0.99 for persons and 0.98
# for families (`tellonce link-eval`). Over 16 synthetic populations of 3000 children (seeds 1 to
# 15 and 31) the largest differences seen, in a row and in a column's total, were: persons 1 in
# 8 and 5 in 2751 (0.2 %); families 1 in 5 and 13 in 1660 (0.8 %); persons picked by what several
# feeds say together 4 in 51 and 4 in 63 (6 %); children counted through their family's
# eligibility 2 in 17, 4 in 40 and 8 in 239 (3.3 %). With 20000 children every total was within
# 1 % of the truth.
#
# - persons: 3 %. Typical differences are under 1 %.
# - persons_across_feeds: 10 %. Persons picked by what several feeds say together (known to
#   three agencies, needs under three headlines) are the ones with the most records to link: one
#   missed link between feeds drops a person from the count, so these counts err most.
# - families: 6 %. Family linkage misses more pairs than person linkage.
# - children_of_families: 10 %, slack 6. Children counted through their family: a family that
#   gains or loses eligibility moves the count by all its children at once (up to four in the
#   synthetic families); the slack allows one such family and a child or two linked elsewhere.
# The absolute slack covers small cells, where one split person is already 10 % of a count of 10.
#
# The tolerances still catch a wrong query (each of these was tried): persons counted as events
# (up to 4.5 times too many), families counted as persons, deciles 1-3 taken for 1-2 (twice the
# children), 18-24 year olds taken for children (15 % more), known to two agencies taken for
# three, families without children kept, a 6-month window for re-referrals (a third of them);
# and every count of events or records is exact.
TOLERANCES = {
    "exact": (0.0, 0),
    "persons": (0.03, 2),
    "persons_across_feeds": (0.10, 3),
    "families": (0.06, 2),
    "children_of_families": (0.10, 6),
}
# Queries with at most this many rows are printed in full, the others by column totals.
FULL_REPORT_ROWS = 12


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    print(json.dumps({"ok": False, "error": message}))
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# The documented queries


def documented_queries():
    """{name: sql} from the marked blocks of the page."""
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!--\s*query:\s*([a-z0-9_]+)\s*-->\s*```sql\n(.*?)```", text, re.S)
    queries = {}
    for name, sql in found:
        if name in queries:
            fail(f"{DOC}: query {name} is marked twice")
        queries[name] = sql
    missing = [n for n in QUERY_NAMES if n not in queries]
    unknown = [n for n in queries if n not in QUERY_NAMES]
    if missing or unknown:
        fail(f"{DOC}: queries missing: {missing}; marked but not checked by this test: {unknown}")
    for name, sql in queries.items():
        if DOC_OUTPUT not in sql:
            fail(f"{DOC}: query {name} does not read {DOC_OUTPUT}/")
    return queries


def run_query(con, sql, output_dir):
    cur = con.execute(sql.replace(DOC_OUTPUT, output_dir.as_posix()))
    columns = [d[0] for d in cur.description]
    return columns, [dict(zip(columns, row)) for row in cur.fetchall()]


def read_parameters(output):
    """(reference date, period from, period to) from the metadata of persons/, or None."""
    files = sorted(p for p in (output / "persons").rglob("*.parquet") if not p.name.startswith("."))
    if not files:
        return None
    meta = pq.read_metadata(files[0]).metadata or {}

    def get(key):
        return (meta.get(key.encode()) or b"").decode()

    reference = parse_date(get("tellonce.reference_date"))
    if reference is None:
        return None
    return reference, parse_date(get("tellonce.period_from")), parse_date(get("tellonce.period_to"))


# ---------------------------------------------------------------------------------------------
# The synthetic inputs and their truth


def parse_date(text):
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def as_text(value):
    """A raw value as the pipeline's validator sees it: text, trimmed; empty means absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value).strip()
    return text or None


def normalise_postcode(text):
    if text is None:
        return None
    compact = re.sub(r"\s+", "", text).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def read_feed(path):
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                yield {k: as_text(v) for k, v in row.items()}
    else:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield {k: as_text(v) for k, v in json.loads(line).items()}


class Record:
    """One partner record that the pipeline stages (not quarantined), with its truth."""

    __slots__ = (
        "feed",
        "record_id",
        "person",
        "family",
        "errors",
        "row",
        "date",
        "dob",
        "district",
        "imd",
        "small_area",
    )


def load_records(synth):
    truth = {}
    with (synth / "truth" / "records.csv").open(newline="", encoding="utf-8") as f:
        for t in csv.DictReader(f):
            truth[(t["feed"], t["record_id"])] = t
    areas = {}
    with (synth / "reference" / "postcode_lookup.csv").open(newline="", encoding="utf-8") as f:
        for a in csv.DictReader(f):
            areas[normalise_postcode(a["postcode"])] = (a["district"], int(a["imd_decile"]), a["small_area"])

    records, seen = [], set()
    for feed, date_column in EVENT_DATE.items():
        paths = [p for p in (synth / "inputs").glob(f"{feed}.*") if p.suffix in (".csv", ".jsonl")]
        if len(paths) != 1:
            fail(f"expected one input file for {feed} in {synth / 'inputs'}, found {paths}")
        for row in read_feed(paths[0]):
            key = (feed, row["record_id"])
            t = truth.get(key)
            if t is None:
                fail(f"record {key} is not in the truth file")
            seen.add(key)
            # Records broken on purpose are quarantined by the pipeline, never staged; those
            # with a bad identifier ("nulled:<column>:<rule>") are staged with it nulled.
            if "invalid:" in t["error"]:
                continue
            r = Record()
            r.feed, r.record_id, r.row = feed, row["record_id"], row
            r.person, r.family, r.errors = t["person_id"], t["family_id"], set(t["error"].split(";"))
            r.date = parse_date(row.get(date_column))
            r.dob = parse_date(row.get("date_of_birth"))
            r.district, r.imd, r.small_area = areas.get(normalise_postcode(row.get("postcode")), (None, None, None))
            records.append(r)
    if len(seen) != len(truth):
        fail(f"the truth file lists {len(truth) - len(seen)} records that no input holds")
    return records


# ---------------------------------------------------------------------------------------------
# The theme mapping, evaluated on the clear rows (the semantics of pipeline/src/outcomes/themes.rs)


def condition_holds(value, cond):
    """One condition of the mapping on one raw value. An absent value never matches."""
    if value is None:
        return False
    if isinstance(cond, bool):
        word = value.lower()
        return (word in TRUE_WORDS and cond) or (word in FALSE_WORDS and not cond)
    if isinstance(cond, list):
        return value.upper() in {c.upper() for c in cond}
    if isinstance(cond, dict):
        try:
            number = float(value)
        except ValueError:
            return False
        return number >= cond.get("at_least", -float("inf")) and number < cond.get("below", float("inf"))
    fail(f"{THEMES}: a condition of an unknown kind: {cond!r}")


def load_indicators():
    with THEMES.open("rb") as f:
        mapping = tomllib.load(f)
    by_feed = defaultdict(list)
    for ind in mapping["indicators"]:
        by_feed[ind["feed"]].append(ind)
    return by_feed


def table_holds(table, row):
    """Every condition of one condition table holds."""
    return all(condition_holds(row.get(col), cond) for col, cond in table.items())


def indicator_matches(ind, row):
    """Every condition of `when` (and of `series`, for a rule over consecutive readings) holds
    and, when `any` is given, every condition of one of its tables."""
    alternatives = ind.get("any", [])
    return (
        table_holds(ind.get("series", {}), row)
        and table_holds(ind.get("when", {}), row)
        and (not alternatives or any(table_holds(a, row) for a in alternatives))
    )


def age_band(born, day):
    """The band of the age on `day`, counted in whole months from the month of birth (the
    pipeline keeps only the month of birth)."""
    if born is None:
        return "unknown"
    months = (day.year * 12 + day.month) - (born.year * 12 + born.month)
    if months < 0:
        return "unborn"
    years = months // 12
    for top, band in ((4, "0-4"), (10, "5-10"), (15, "11-15"), (17, "16-17"), (24, "18-24")):
        if years <= top:
            return band
    return "25+"


def plus_months(day, months):
    """The same day `months` later, or the month's last day where it is shorter (as DuckDB's
    `date + INTERVAL n MONTH`)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Event:
    __slots__ = ("record", "headline")

    def __init__(self, record, headline):
        self.record, self.headline = record, headline


def theme_events(records, indicators, family_of):
    """Every indicator occurrence: one per record and matching indicator (undated records give
    none, as in the pipeline), kept where the indicator's rule over rows holds."""
    out = []
    dated = [r for r in records if r.date is not None]
    for ind in (i for inds in indicators.values() for i in inds):
        own = [r for r in dated if r.feed == ind["feed"]]
        hits = [r for r in own if indicator_matches(ind, r.row)]
        if "repeat" in ind:
            hits = repeated(ind["repeat"], hits, family_of)
        elif "consecutive" in ind:
            readings = [(r, indicator_matches(ind, r.row)) for r in own if table_holds(ind["series"], r.row)]
            hits = consecutive(ind["consecutive"], hits, readings)
        out.extend(Event(r, ind["headline"]) for r in hits)
    return out


def repeated(rule, hits, family_of):
    """The hits with at least `at_least` hits of the same person (or family) in the
    `within_months` calendar months that end on their day."""
    key = (lambda r: r.person) if rule.get("of", "person") == "person" else (lambda r: family_of[r.person])
    days = defaultdict(list)
    for r in hits:
        days[key(r)].append(r.date)
    months = rule["within_months"]
    return [
        r for r in hits if sum(plus_months(r.date, -months) < d <= r.date for d in days[key(r)]) >= rule["at_least"]
    ]


def consecutive(n, hits, readings):
    """The hits on a day that ends a run of at least `n` matching readings of the person, a
    day's readings matching only if all of them do."""
    by_person = defaultdict(lambda: defaultdict(list))
    for r, matched in readings:
        by_person[r.person][r.date].append(matched)
    ends = set()
    for person, days in by_person.items():
        run = 0
        for day in sorted(days):
            run = run + 1 if all(days[day]) else 0
            if run >= n:
                ends.add((person, day))
    return [r for r in hits if (r.person, r.date) in ends]


# ---------------------------------------------------------------------------------------------
# Persons and families from the truth


def address_keys(r):
    """Where a record says its person lives: the address line (letters and digits only, whatever
    the partner's case and punctuation) and the postcode."""
    keys = set()
    line = re.sub(r"[^A-Z0-9]+", " ", (r.row.get("address_line_1") or "").upper()).strip()
    if line:
        keys.add(("line", line))
    postcode = normalise_postcode(r.row.get("postcode"))
    if postcode:
        keys.add(("postcode", postcode))
    return keys


def households(records, is_adult):
    """The household of each true person: their true family, except that an adult member who
    shares no address line and no postcode with any other member (a parent who lives elsewhere)
    is a household of their own.

    The truth puts a parent who lives elsewhere in the children's family. Families in tellonce
    are households (persons sharing a property, an address or a partner's household reference),
    and no record says where else a parent is a parent; held to the truth's families, every
    domestic abuse incident with an ex-partner as suspect would be one family in the truth and
    two in the answer (about 3 % of families, and a third of the SF08 families in a district).
    Children always stay in their true family: one seen only at an old address is a miss of
    family linkage, which the tolerance has to cover."""
    where = defaultdict(lambda: defaultdict(set))
    for r in records:
        where[r.family][r.person] |= address_keys(r)
    household = {}
    for family, members in where.items():
        for person, keys in members.items():
            others = set().union(*(k for p, k in members.items() if p != person))
            elsewhere = len(members) > 1 and not keys & others and is_adult(person)
            household[person] = f"{family}/{person}" if elsewhere else family
    return household


class Truth:
    def __init__(self, records, indicators, params):
        self.records = records
        self.reference, self.period_from, self.period_to = params or (None, None, None)
        self.by_person = defaultdict(list)
        for r in records:
            self.by_person[r.person].append(r)
        # Adult by the latest event held when no reference date is known (needs_by_district).
        at = self.reference or max(r.date for r in records if r.date)
        self.family_of = households(records, lambda p: age_band(self.dob(p), at) in ("18-24", "25+"))
        self.events = events = theme_events(records, indicators, self.family_of)
        self.events_by_person = defaultdict(list)
        for e in events:
            self.events_by_person[e.record.person].append(e)
        # persons/ and families/ hold the persons with a record in the period.
        self.persons = {p for p, rs in self.by_person.items() if any(self.in_period(r.date) for r in rs)}
        self.members = defaultdict(set)
        for p in self.persons:
            self.members[self.family_of[p]].add(p)

    def in_period(self, day):
        if day is None:
            return self.period_from is None and self.period_to is None
        return (self.period_from is None or day >= self.period_from) and (
            self.period_to is None or day <= self.period_to
        )

    def dob(self, person):
        """The person's date of birth: the commonest among records without an injected date of
        birth error (any record's if none is clean)."""
        rs = self.by_person[person]
        clean = [r.dob for r in rs if r.dob and not r.errors & {"dob_day_month_swapped", "dob_missing"}]
        pool = clean or [r.dob for r in rs if r.dob]
        return Counter(pool).most_common(1)[0][0] if pool else None

    def band_now(self, person):
        return age_band(self.dob(person), self.reference)

    def is_child(self, person):
        return self.band_now(person) in CHILD_BANDS

    def headlines(self, person):
        return {e.headline for e in self.events_by_person[person] if self.in_period(e.record.date)}

    def feeds(self, person):
        return {r.feed for r in self.by_person[person] if self.in_period(r.date)}

    def latest_area(self, persons):
        """District and decile of the latest record in the period (by event date) with a known
        area among the persons' records."""
        known = [
            r
            for p in persons
            for r in self.by_person[p]
            if r.district is not None and r.date is not None and self.in_period(r.date)
        ]
        if not known:
            return None, None
        r = max(known, key=lambda r: (r.date, r.feed, r.record_id))
        return r.district, r.imd

    def latest_small_area(self, person):
        """The small area of the same latest record."""
        known = [r for r in self.by_person[person] if r.district is not None and r.date is not None and self.in_period(r.date)]
        return max(known, key=lambda r: (r.date, r.feed, r.record_id)).small_area if known else None


# ---------------------------------------------------------------------------------------------
# The expected answer of each query, and how each column is compared
#
# A spec gives the key columns, which identify a row, and for every other column how it is
# compared: a kind of TOLERANCES, or ("pct", numerator, denominator) for a percentage of two
# count columns of the same row. A percentage must be its own row's numerator over denominator,
# and lie in the range the truth's numerator and denominator give within their tolerances.


def expect_needs_by_district(t):
    cells = defaultdict(lambda: {"events": 0, "persons": set(), "children": set(), "families": set()})
    for e in t.events:
        r = e.record
        c = cells[(r.district or "UNKNOWN", e.headline)]
        c["events"] += 1
        c["persons"].add(r.person)
        c["families"].add(t.family_of[r.person])
        # theme_events/ bands the age at the event from the record's own date of birth.
        if age_band(r.dob, r.date) in CHILD_BANDS:
            c["children"].add(r.person)
    rows = {k: {col: v if isinstance(v, int) else len(v) for col, v in c.items()} for k, c in cells.items()}
    spec = {
        "keys": ["district", "headline"],
        "columns": {"events": "exact", "persons": "persons", "children": "persons", "families": "families"},
    }
    return spec, rows


def expect_deprivation(t):
    groups = defaultdict(Counter)
    for person in t.persons:
        if not t.is_child(person):
            continue
        _, imd = t.latest_area([person])
        group = "UNKNOWN" if imd is None else "deciles 1-2 (most deprived)" if imd <= 2 else "deciles 3-10"
        n = len(t.headlines(person))
        g = groups[(group,)]
        g["children"] += 1
        g["with_a_need"] += n >= 1
        g["three_or_more_headlines"] += n >= 3
    spec = {
        "keys": ["deprivation"],
        "columns": {
            "children": "persons",
            "with_a_need": "persons",
            "three_or_more_headlines": "persons_across_feeds",
            "pct_with_a_need": ("pct", "with_a_need", "children"),
            "pct_three_or_more": ("pct", "three_or_more_headlines", "children"),
        },
    }
    return spec, {k: dict(v) for k, v in groups.items()}


def expect_needs_by_locality(t):
    localities = {}
    with (t.synth / "reference" / "family_hub_localities.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            localities[row["small_area"]] = row["locality"]
    groups = defaultdict(Counter)
    for person in t.persons:
        if not t.is_child(person):
            continue
        g = groups[(localities.get(t.latest_small_area(person), "UNKNOWN"),)]
        g["children"] += 1
        g["with_a_need"] += len(t.headlines(person)) >= 1
    spec = {
        "keys": ["locality"],
        "columns": {
            "children": "persons",
            "with_a_need": "persons",
            "pct_with_a_need": ("pct", "with_a_need", "children"),
        },
    }
    return spec, {k: dict(v) for k, v in groups.items()}


def cohorts(t, person):
    """How many of persons/'s vulnerable cohorts a record of the person in the period puts them
    in: early help (an episode record), youth justice (a record of that feed), and a plan or
    status flag set on any record (child in need, child protection, looked after, EHC plan)."""
    flags = ("child_in_need", "child_protection_plan", "looked_after", "ehc_plan")
    rs = [r for r in t.by_person[person] if t.in_period(r.date)]
    early_help = any(
        r.feed == "education" and (r.row.get("event_type") or "").upper() in ("EARLY_HELP_OPEN", "EARLY_HELP_CLOSE")
        for r in rs
    )
    youth_justice = any(r.feed == "youth_justice" for r in rs)
    flagged = sum(any((r.row.get(f) or "").lower() in TRUE_WORDS for r in rs) for f in flags)
    return early_help + youth_justice + flagged


def expect_attendance_by_cohorts(t):
    groups = defaultdict(Counter)
    for person in t.persons:
        if t.band_now(person) not in ("5-10", "11-15", "16-17"):
            continue
        readings = []
        for r in t.by_person[person]:
            if r.feed == "education" and (r.row.get("event_type") or "").upper() == "ATTENDANCE_TERM":
                try:
                    readings.append(float(r.row.get("attendance_pct")))
                except (TypeError, ValueError):
                    pass
        if not readings:
            continue
        n = cohorts(t, person)
        g = groups[("2 or more" if n >= 2 else str(n),)]
        g["children"] += 1
        g["persistently_absent"] += sum(readings) / len(readings) < 90
    spec = {
        "keys": ["vulnerable_cohorts"],
        "columns": {
            "children": "persons",
            "persistently_absent": "persons",
            "persistently_absent_pct": ("pct", "persistently_absent", "children"),
        },
    }
    return spec, {k: dict(v) for k, v in groups.items()}


def expect_known_to_three_agencies(t):
    bands = defaultdict(Counter)
    for person in t.persons:
        band = t.band_now(person)
        if band not in CHILD_BANDS:
            continue
        # Today every feed comes from a partner organisation of its own, so agencies are feeds.
        three = len(t.feeds(person)) >= 3
        for key in (band, "all children"):
            bands[(key,)]["children"] += 1
            bands[(key,)]["known_to_three_or_more"] += three
    spec = {
        "keys": ["age_band"],
        "columns": {
            "children": "persons",
            "known_to_three_or_more": "persons_across_feeds",
            "pct_known_to_three_or_more": ("pct", "known_to_three_or_more", "children"),
        },
    }
    return spec, {k: dict(v) for k, v in bands.items()}


def expect_eligible_families(t):
    districts = defaultdict(Counter)
    for members in t.members.values():
        children = sum(1 for p in members if t.is_child(p))
        expected = sum(1 for p in members if t.band_now(p) == "unborn")
        if children + expected == 0:
            continue
        # The default rule: needs under three distinct headlines or more among the members.
        eligible = len(set().union(*(t.headlines(p) for p in members))) >= 3
        district, _ = t.latest_area(members)
        for key in (district or "UNKNOWN", "ALL"):
            d = districts[(key,)]
            d["families_with_children"] += 1
            d["eligible_families"] += eligible
            d["children_in_eligible"] += children if eligible else 0
    spec = {
        "keys": ["district"],
        "columns": {
            "families_with_children": "families",
            "eligible_families": "families",
            "children_in_eligible": "children_of_families",
            "pct_eligible": ("pct", "eligible_families", "families_with_children"),
        },
    }
    return spec, {k: dict(v) for k, v in districts.items()}


def expect_early_help_rereferrals(t):
    opened = Counter()
    closures = defaultdict(list)
    for r in t.records:
        if r.feed != "education" or r.date is None:
            continue
        kind = (r.row.get("event_type") or "").upper()
        if kind == "EARLY_HELP_OPEN":
            opened[(r.person, r.date)] += 1
        elif kind == "EARLY_HELP_CLOSE":
            closures[r.person].append(r.date)
    years = defaultdict(lambda: {"referral_records": 0, "referrals": 0, "children": set(), "re_referrals": 0})
    for (person, day), n in opened.items():
        y = years[(day.year,)]
        y["referral_records"] += n
        y["referrals"] += 1
        y["children"].add(person)
        before = [c for c in closures[person] if c <= day]
        if before and day <= plus_months(max(before), 12):
            y["re_referrals"] += 1
    spec = {
        "keys": ["year"],
        "columns": {
            "referral_records": "exact",
            "referrals": "persons",
            "children": "persons",
            "re_referrals": "persons",
            "re_referral_pct": ("pct", "re_referrals", "referrals"),
        },
    }
    return spec, {k: {**v, "children": len(v["children"])} for k, v in years.items()}


def truth_episodes(t):
    """Each true child's early help episodes, paired as episodes/ documents: (person, start,
    close, closure reason), start or close None where never recorded."""
    marks = defaultdict(list)
    for r in t.records:
        if r.feed != "education" or r.date is None:
            continue
        kind = (r.row.get("event_type") or "").upper()
        if kind in ("EARLY_HELP_OPEN", "EARLY_HELP_CLOSE"):
            reason = (r.row.get("early_help_outcome") or "").strip().upper() or None
            marks[r.person].append((r.date, kind == "EARLY_HELP_CLOSE", reason))
    out = []
    for person, ms in marks.items():
        # One day's records: with an episode open, its closes first (closed, then a new case
        # opened); with none open, its opens first (opened and closed the same day).
        by_day = defaultdict(list)
        for m in ms:
            by_day[m[0]].append(m)
        ordered, is_open = [], False
        for day in sorted(by_day):
            opens = [m for m in by_day[day] if not m[1]]
            closes = [m for m in by_day[day] if m[1]]
            for m in (closes + opens) if is_open else (opens + closes):
                ordered.append(m)
                is_open = not m[1]
        opened = None
        for day, closes, reason in ordered:
            if not closes:
                if opened is not None:
                    out.append((person, opened, None, None))
                opened = day
            else:
                out.append((person, opened, day, reason))
                opened = None
        if opened is not None:
            out.append((person, opened, None, None))
    return out


def family_starts(t, episodes):
    """The start dates of each true family's episodes."""
    starts = defaultdict(list)
    for person, start, *_ in episodes:
        if start is not None:
            starts[t.family_of[person]].append(start)
    return starts


def back_within_12_months(starts, close):
    """Whether the family started another episode within 365 days after `close`."""
    later = [s for s in starts if s > close]
    return bool(later) and (min(later) - close).days <= 365


def expect_early_help_episodes(t):
    episodes = truth_episodes(t)
    starts = family_starts(t, episodes)
    rows = defaultdict(lambda: {"episodes": 0, "children": set(), "family_back_within_12_months": 0})
    for person, start, day, reason in episodes:
        if start is None or day is None:
            continue
        row = rows[(day.year, reason)]
        row["episodes"] += 1
        row["children"].add(person)
        if back_within_12_months(starts[t.family_of[person]], day):
            row["family_back_within_12_months"] += 1
    spec = {
        "keys": ["year", "closure_reason"],
        "columns": {
            "episodes": "persons",
            "children": "persons",
            "family_back_within_12_months": "families",
            "back_pct": ("pct", "family_back_within_12_months", "episodes"),
        },
    }
    return spec, {k: {**v, "children": len(v["children"])} for k, v in rows.items()}


def truth_outcomes(t):
    """Each true episode with a recorded start, with the outcome status of every need its family
    had at the start, worked out from the theme mapping's outcome rules: (person, start, close,
    {headline: status})."""
    with THEMES.open("rb") as f:
        mapping = tomllib.load(f)
    rules = {r["headline"]: r for r in mapping.get("outcome_rules", [])}
    # How far each need's evidence runs: the latest record of the feeds its indicators read.
    latest = {}
    for r in t.records:
        if r.date is not None:
            latest[r.feed] = max(latest.get(r.feed, r.date), r.date)
    data_end = {}
    for i in mapping["indicators"]:
        if i["feed"] in latest:
            data_end[i["headline"]] = max(data_end.get(i["headline"], latest[i["feed"]]), latest[i["feed"]])
    # A rule over readings: its evidence runs as far as its latest reading, and it reads each
    # family's readings by person and day, the lowest of the day.
    levels = {}
    for h, rule in rules.items():
        if rule["met_when"] != "readings":
            continue
        data_end.pop(h, None)
        readings = defaultdict(dict)
        for r in t.records:
            if r.feed != rule["feed"] or r.date is None or not table_holds(rule["series"], r.row):
                continue
            try:
                value = float(r.row.get(rule["value"]))
            except (TypeError, ValueError):
                continue
            fam = readings[t.family_of[r.person]]
            fam[(r.person, r.date)] = min(fam.get((r.person, r.date), value), value)
            data_end[h] = max(data_end.get(h, r.date), r.date)
        levels[h] = readings
    evidence = defaultdict(list)
    for e in t.events:
        evidence[t.family_of[e.record.person]].append((e.headline, e.record.date))
    out = []
    for person, start, close, _ in truth_episodes(t):
        if start is None:
            continue
        family = evidence[t.family_of[person]]
        statuses = {}
        for h in sorted({h for h, d in family if plus_months(start, -12) <= d <= start}):
            dates = [d for x, d in family if x == h]
            rule = rules.get(h)
            if rule is None or close is None or h not in data_end:
                status = "no evidence either way"
            elif plus_months(close, -rule["at_close_months"]) < start:
                status = "no evidence either way"  # shorter than the close window
            elif rule["met_when"] == "readings":
                status = readings_status(rule, levels[h][t.family_of[person]], close, data_end[h])
            elif any(plus_months(close, -rule["at_close_months"]) <= d <= close for d in dates if d > start):
                status = "not met"
            elif any(close < d <= plus_months(close, rule["sustain_months"]) for d in dates):
                status = "not met"
            elif plus_months(close, rule["sustain_months"]) > data_end[h]:
                status = "met, not yet sustained"
            else:
                status = "met and sustained"
            statuses[h] = status
        out.append((person, start, close, statuses))
    return out


def readings_status(rule, readings, close, data_end):
    """A need's status under a `readings` rule, from the family's readings by (person, day)."""
    close_from, until = plus_months(close, -rule["at_close_months"]), plus_months(close, rule["sustain_months"])
    at_close = [(p, v) for (p, d), v in readings.items() if close_from <= d <= close]
    after = [(p, v) for (p, d), v in readings.items() if close < d <= until]
    if not at_close:
        return "no evidence either way"
    if any(v < rule["at_least"] for _, v in at_close + after):
        return "not met"
    if until > data_end:
        return "met, not yet sustained"
    # Every child read at close needs enough terms of their own after it.
    if all(sum(q == p for q, _ in after) >= rule["readings"] for p, _ in at_close):
        return "met and sustained"
    return "no evidence either way"


def expect_family_outcomes(t):
    rows = defaultdict(lambda: {"needs": 0})
    for _, _, _, statuses in truth_outcomes(t):
        for h, status in statuses.items():
            rows[(h, status)]["needs"] += 1
    spec = {"keys": ["headline", "status"], "columns": {"needs": "families"}}
    return spec, {k: dict(v) for k, v in rows.items()}


def expect_return_after_success(t):
    outcomes = truth_outcomes(t)
    starts = family_starts(t, outcomes)
    rows = defaultdict(lambda: {"successful_closures": 0, "back_within_12_months": 0})
    for person, _, close, statuses in outcomes:
        if close is None or not statuses or any(v != "met and sustained" for v in statuses.values()):
            continue
        row = rows[(close.year,)]
        row["successful_closures"] += 1
        if back_within_12_months(starts[t.family_of[person]], close):
            row["back_within_12_months"] += 1
    spec = {
        "keys": ["year"],
        "columns": {
            "successful_closures": "families",
            "back_within_12_months": "families",
            "back_pct": ("pct", "back_within_12_months", "successful_closures"),
        },
    }
    return spec, {k: dict(v) for k, v in rows.items()}


def expect_re_referrals(t):
    """Each closed early help episode by year and outcome: stepped up, followed for 12 months,
    and whether the family started another episode or stepped up within 12 calendar months."""
    with THEMES.open("rb") as f:
        mapping = tomllib.load(f)
    step_up = {c for e in mapping.get("episodes", []) for c in e.get("step_up", [])}
    outcomes = {(person, start, close): statuses for person, start, close, statuses in truth_outcomes(t)}
    episodes = truth_episodes(t)
    starts = family_starts(t, episodes)
    level_4 = defaultdict(list)
    for person, _, close, reason in episodes:
        if close is not None and reason in step_up:
            level_4[t.family_of[person]].append(close)
    followed_until = max(r.date for r in t.records if r.feed == "education" and r.date is not None)
    rows = defaultdict(
        lambda: {"closures": 0, "stepped_up": 0, "followed": 0, "back_at_level_3": 0, "needed_level_4": 0}
    )
    for person, start, close, reason in episodes:
        if close is None:
            continue
        statuses = outcomes.get((person, start, close)) if start is not None else None
        if not statuses:
            outcome = "no need at entry"
        elif all(v == "met and sustained" for v in statuses.values()):
            outcome = "successful"
        else:
            outcome = "not successful"
        row = rows[(close.year, outcome)]
        row["closures"] += 1
        row["stepped_up"] += reason in step_up
        window_end = plus_months(close, 12)
        if window_end <= followed_until:
            family = t.family_of[person]
            row["followed"] += 1
            row["back_at_level_3"] += any(close < s <= window_end for s in starts[family])
            row["needed_level_4"] += any(close < d <= window_end for d in level_4[family])
    spec = {
        "keys": ["year", "outcome"],
        "columns": {
            "closures": "families",
            "stepped_up": "families",
            "followed": "families",
            "back_at_level_3": "families",
            "needed_level_4": "families",
            "back_pct": ("pct", "back_at_level_3", "followed"),
            "level_4_pct": ("pct", "needed_level_4", "followed"),
        },
    }
    return spec, {k: dict(v) for k, v in rows.items()}


# name: (expected answer, whether it needs the reference date of persons/)
EXPECTATIONS = {
    "needs_by_district": (expect_needs_by_district, False),
    "deprivation": (expect_deprivation, True),
    "needs_by_locality": (expect_needs_by_locality, True),
    "attendance_by_cohorts": (expect_attendance_by_cohorts, True),
    "known_to_three_agencies": (expect_known_to_three_agencies, True),
    "eligible_families": (expect_eligible_families, True),
    "early_help_rereferrals": (expect_early_help_rereferrals, False),
    "early_help_episodes": (expect_early_help_episodes, False),
    "family_outcomes": (expect_family_outcomes, False),
    "return_after_success": (expect_return_after_success, False),
    "re_referrals": (expect_re_referrals, False),
}


# ---------------------------------------------------------------------------------------------
# Comparison


def allowed(kind, want):
    """How far a count of this kind may be from the truth's `want`."""
    rel, slack = TOLERANCES[kind]
    return max(slack, rel * want)


def pct_consistent(pct, num, den):
    return den > 0 and abs(float(pct) - 100.0 * num / den) <= 0.05 + 1e-9


def pct_within(pct, num, den, num_slack, den_slack):
    """Whether a percentage is reachable with numerator and denominator within their slack."""
    lo = 100.0 * max(num - num_slack, 0) / (den + den_slack) if den + den_slack > 0 else 0.0
    hi = 100.0 if den - den_slack <= 0 else min(100.0, 100.0 * (num + num_slack) / (den - den_slack))
    return lo - 0.05 <= float(pct) <= hi + 0.05


def is_total(key):
    return any(k in ("all children", "ALL") for k in key)


def compare(spec, got_columns, got_rows, want_rows):
    """Returns (problems, report lines, summary)."""
    keys, columns = spec["keys"], spec["columns"]
    wanted_columns = keys + list(columns)
    if got_columns != wanted_columns:
        return [f"the query's columns are {got_columns}; the test knows {wanted_columns}"], [], {}
    problems = []
    got = {}
    for row in got_rows:
        key = tuple(row[k] for k in keys)
        if key in got:
            problems.append(f"row {key} appears twice")
        got[key] = row
    counts = [c for c, kind in columns.items() if isinstance(kind, str)]
    pcts = {c: kind for c, kind in columns.items() if isinstance(kind, tuple)}
    worst = {c: {"difference": 0, "of": 0} for c in counts}
    table = []
    # Rows in the query's order, then those only the truth has.
    missing = sorted(set(want_rows) - set(got), key=lambda k: tuple(str(x) for x in k))
    for key in list(got) + missing:
        g, w = got.get(key), want_rows.get(key)
        g_n = {c: int((g or {}).get(c) or 0) for c in counts}
        w_n = {c: int((w or {}).get(c) or 0) for c in counts}
        bad, inconsistent = set(), set()
        for c in counts:
            diff = g_n[c] - w_n[c]
            if abs(diff) * max(worst[c]["of"], 1) > abs(worst[c]["difference"]) * max(w_n[c], 1):
                worst[c] = {"difference": diff, "of": w_n[c]}
            if abs(diff) > allowed(columns[c], w_n[c]):
                bad.add(c)
        # A row on one side only is fine when each of its counts is within tolerance of zero (a
        # tiny group that linkage can create or empty); its percentages are then not compared.
        if g and w:
            for c, (_, num, den) in pcts.items():
                if g[c] is None and g_n[den] == 0:
                    continue  # a rate of nothing: null, as NULLIF gives it
                if g[c] is None or not pct_consistent(g[c], g_n[num], g_n[den]):
                    inconsistent.add(c)
                    problems.append(f"row {key}: {c} = {g[c]} is not 100 * {num} / {den} of the same row")
                elif not pct_within(
                    g[c], w_n[num], w_n[den], allowed(columns[num], w_n[num]), allowed(columns[den], w_n[den])
                ):
                    bad.add(c)
        if bad:
            where = "" if g and w else " (only in the query's answer)" if g else " (missing from the query's answer)"
            detail = [
                f"{c} {g_n[c]}, truth {w_n[c]} (allowed ±{allowed(columns[c], w_n[c]):g})" for c in counts if c in bad
            ]
            detail += [
                f"{c} {g[c]}, truth {100.0 * w_n[pcts[c][1]] / w_n[pcts[c][2]]:.1f}"
                for c in pcts
                if c in bad and w_n[pcts[c][2]]
            ]
            problems.append(f"row {key}{where}: " + "; ".join(detail))
        cells = [" ".join(str(k) for k in key)]
        for c in counts:
            cells.append(f"{g_n[c]}/{w_n[c]}" + ("!" if c in bad else ""))
        for c, (_, num, den) in pcts.items():
            truth_pct = f"{100.0 * w_n[num] / w_n[den]:.1f}" if w_n[den] else "-"
            cells.append(f"{g[c] if g else '-'}/{truth_pct}" + ("!" if c in bad | inconsistent else ""))
        table.append(cells)

    report = [f"  rows: {len(got)} from the query, {len(want_rows)} in the truth"]
    if len(table) <= FULL_REPORT_ROWS:
        header = [" ".join(keys)] + counts + list(pcts)
        widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
        report.append("  query/truth:")
        for r in [header] + table:
            report.append("    " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
    summary = {}
    for c in counts:
        g_total = sum(int(r.get(c) or 0) for k, r in got.items() if not is_total(k))
        w_total = sum(int(r.get(c) or 0) for k, r in want_rows.items() if not is_total(k))
        apart = abs(g_total - w_total) / w_total if w_total else 0.0
        rel, slack = TOLERANCES[columns[c]]
        summary[c] = {
            "kind": columns[c],
            "query_total": g_total,
            "truth_total": w_total,
            "worst_row": worst[c],
        }
        rows_apart = (
            f"worst row {worst[c]['difference']:+d} of {worst[c]['of']}" if worst[c]["difference"] else "every row equal"
        )
        report.append(
            f"  {c:<24} {columns[c]:<21} total {g_total:>6} vs truth {w_total:>6} ({100 * apart:.2f} % apart),"
            f" {rows_apart}; tolerance {rel:.0%}, at least {slack}"
        )
    return problems, report, summary


# ---------------------------------------------------------------------------------------------


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    output, synth = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    queries = documented_queries()
    records = load_records(synth)
    params = read_parameters(output)
    truth = Truth(records, load_indicators(), params)
    truth.synth = synth
    events = truth.events
    latest = max(r.date for r in records if r.date)
    if params:
        print(
            f"reference date {params[0]} (latest event in the inputs {latest}), "
            f"period {params[1] or 'unbounded'} to {params[2] or 'unbounded'}"
        )
    print(
        f"truth: {len(records)} staged records, {len(truth.by_person)} persons, "
        f"{len(set(truth.family_of.values()))} households, {len(events)} theme events"
    )

    con = duckdb.connect()
    summary, all_ok = {}, True
    for name in QUERY_NAMES:
        expect, needs_params = EXPECTATIONS[name]
        print(f"\n== {name}")
        report, details = [], {}
        try:
            got_columns, got_rows = run_query(con, queries[name], output)
        except duckdb.Error as e:
            problems = [f"the query failed: {str(e).splitlines()[0]}"]
        else:
            if needs_params and params is None:
                problems = ["no persons/ dataset with a tellonce.reference_date in its metadata"]
            else:
                spec, want_rows = expect(truth)
                problems, report, details = compare(spec, got_columns, got_rows, want_rows)
        for line in report:
            print(line)
        for p in problems:
            print(f"  MISMATCH {p}")
        print("  ok" if not problems else f"  FAILED: {len(problems)} mismatch(es)")
        all_ok &= not problems
        summary[name] = {"ok": not problems, "mismatches": len(problems), "columns": details}
    print()
    print(json.dumps({"ok": all_ok, "queries": summary}))
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
