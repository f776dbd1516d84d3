"""Tests for dagster_project.tools.generator: real files in tmp dirs, no mocks."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from dagster_project.tools import generator as g

END = "2026-06-30"
CSV_ENTITIES = ("customers", "products", "orders", "order_lines", "responses")
FILE_RE = re.compile(r"^(customers|products|orders|order_lines|tickets|responses)_(\d{4}-\d{2}-\d{2})\.(csv|jsonl)$")
TS_KEYS = {"customers": "updated_at", "products": "updated_at", "orders": "updated_at",
           "tickets": "updated_at", "responses": "submitted_at"}
KEYS = {"customers": "customer_id", "products": "product_id", "orders": "order_id",
        "tickets": "ticket_id", "responses": "response_id"}


# --------------------------------------------------------------------------- helpers
def parse_ts(s):
    """ISO 8601 in any of the contract's forms -> aware UTC datetime (no offset means UTC)."""
    v = dt.datetime.fromisoformat(s.strip())
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.timezone.utc)
    return v.astimezone(dt.timezone.utc)


def try_ts(s):
    try:
        return parse_ts(s)
    except (ValueError, TypeError, AttributeError):
        return None


def files_of(out: Path, entity: str):
    folder = out / g.FOLDER[entity]
    return sorted(folder.glob(f"{entity}_*.{g.EXT[entity]}"))


def extract_date(path: Path) -> dt.date:
    return dt.date.fromisoformat(FILE_RE.match(path.name).group(2))


def read_rows(out: Path, entity: str):
    """All rows of an entity as dicts, each with '_extract' (a date)."""
    rows = []
    for p in files_of(out, entity):
        d = extract_date(p)
        if g.EXT[entity] == "csv":
            with open(p, newline="", encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    r = {k: (v if v != "" else None) for k, v in r.items()}
                    r["_extract"] = d
                    rows.append(r)
        else:
            with open(p, encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    r["_extract"] = d
                    rows.append(r)
    return rows


def tree_bytes(out: Path):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def expected_dates(days, k, end=END, full_dump_until=None):
    e = dt.date.fromisoformat(end)
    s = e - dt.timedelta(days=days - 1)
    dates = [e - dt.timedelta(days=j * k) for j in range((e - s).days // k + 1)]
    if full_dump_until:
        d0 = dt.date.fromisoformat(full_dump_until)
        dates = [d for d in dates if d > d0] + [d0]
    return sorted(set(dates))


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A set without bad rows, for structural checks."""
    out = tmp_path_factory.mktemp("clean")
    counts = g.generate(out, customers=300, days=120, seed=1, extract_every_days=5, bad_row_rate=0.0)
    return out, counts


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    out = tmp_path_factory.mktemp("dirty")
    counts = g.generate(out, customers=800, days=150, seed=3, extract_every_days=10, bad_row_rate=0.3)
    return out, counts


# --------------------------------------------------------------------------- tests
def test_deterministic_bytes(tmp_path):
    kw = dict(customers=120, days=60, extract_every_days=7)
    a = g.generate(tmp_path / "a", seed=7, **kw)
    b = g.generate(tmp_path / "b", seed=7, **kw)
    g.generate(tmp_path / "c", seed=8, **kw)
    ta, tb, tc = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b"), tree_bytes(tmp_path / "c")
    assert a == b
    assert ta == tb
    assert sum(len(v) for v in ta.values()) > 10_000
    assert len(ta.keys() & tc.keys()) > len(ta) // 2  # mostly the same extract files
    assert ta != tc
    for ent in ("customers", "orders", "order_lines"):
        mine = b"".join(v for k, v in ta.items() if Path(k).name.startswith(ent + "_"))
        other = b"".join(v for k, v in tc.items() if Path(k).name.startswith(ent + "_"))
        assert mine != other


def test_file_naming_and_extract_dates(clean):
    out, counts = clean
    dates = expected_dates(120, 5)
    assert sorted(p.name for p in out.iterdir()) == ["sales", "service", "survey"]
    for ent in g.ENTITIES:
        files = files_of(out, ent)
        assert {extract_date(p) for p in files} <= set(dates), ent
        assert files, ent
        assert counts[ent]["files"] == len(files)
        for p in files:  # no empty or header-only files: the warehouse rejects those
            assert p.stat().st_size > 0
            if p.suffix == ".csv":
                assert len(p.read_bytes().splitlines()) >= 2, p.name
    for p in out.rglob("*"):
        if p.is_file():
            assert FILE_RE.match(p.name), p.name
            assert p.parent.name == g.FOLDER[FILE_RE.match(p.name).group(1)]


def test_csv_headers_encoding_and_shape(clean):
    out, counts = clean
    for ent in CSV_ENTITIES:
        n = 0
        for p in files_of(out, ent):
            raw = p.read_bytes()
            text = raw.decode("utf-8")  # strict UTF-8
            assert "\r" not in text
            assert text.endswith("\n")
            assert text.split("\n", 1)[0] == ",".join(g.HEADERS[ent])
            with open(p, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            assert rows[0] == g.HEADERS[ent]
            assert all(len(r) == len(g.HEADERS[ent]) for r in rows[1:]), p.name
            n += len(rows) - 1
        assert n == counts[ent]["rows"] > 0, ent


def test_jsonl_tickets_parse(clean):
    out, counts = clean
    n = 0
    kinds = set()
    for p in files_of(out, "tickets"):
        for line in p.read_text(encoding="utf-8").splitlines():
            t = json.loads(line)
            n += 1
            assert list(t) == g.HEADERS["tickets"]
            assert set(t["requester"]) == {"name", "email", "phone"}
            assert isinstance(t["tags"], list)
            assert t["status"] in g.T_STATUS and t["type"] in g.T_TYPES
            assert t["channel"] in g.T_CHANNELS and t["priority"] in g.T_PRIORITIES
            assert t["satisfaction"] in ("good", "bad", None)
            kinds.add(type(t["ticket_id"]))
            if t["status"] in ("new", "open") and t["solved_at"] is None:
                pass
            if t["status"] in ("solved", "closed"):
                assert t["solved_at"] and t["first_response_at"]
    assert n == counts["tickets"]["rows"] > 0
    assert int in kinds


def test_versions_land_in_the_right_extract(clean):
    """Each version's UTC business date is in (previous extract, extract]."""
    out, _ = clean
    dates = expected_dates(120, 5)
    prev = {d: (dates[i - 1] if i else dt.date.min) for i, d in enumerate(dates)}
    forms = set()
    for ent, col in TS_KEYS.items():
        for r in read_rows(out, ent):
            raw = r[col]
            forms.add("Z" if raw.endswith("Z") else raw[19:] or (" " if raw[10] == " " else "T"))
            day = parse_ts(raw).date()
            assert prev[r["_extract"]] < day <= r["_extract"], (ent, raw, r["_extract"])
    # realistic mix of timestamp renderings
    assert {"Z", "+00:00", "+08:00", " "} <= forms


def test_order_lines_travel_with_first_export_of_their_order(clean):
    out, _ = clean
    first = {}
    for r in read_rows(out, "orders"):
        first.setdefault(r["order_id"], r["_extract"])
        first[r["order_id"]] = min(first[r["order_id"]], r["_extract"])
    lines = read_rows(out, "order_lines")
    per_order = defaultdict(list)
    for ln in lines:
        assert first[ln["order_id"]] == ln["_extract"]
        per_order[ln["order_id"]].append(int(ln["line_number"]))
        assert int(ln["quantity"]) > 0
        assert re.fullmatch(r"\d+\.\d{2}", ln["unit_price"]) and re.fullmatch(r"\d+\.\d{2}", ln["discount_amount"])
    assert set(per_order) == set(first)
    assert all(sorted(v) == list(range(1, len(v) + 1)) and len(v) <= 6 for v in per_order.values())
    assert any(ln["unit_cost"] is None for ln in lines) and any(ln["unit_cost"] for ln in lines)
    assert any(float(ln["discount_amount"]) > 0 for ln in lines)


def test_reexports_with_newer_updated_at(clean):
    out, _ = clean
    # orders: completed first, later cancelled / returned
    hist = defaultdict(list)
    for r in read_rows(out, "orders"):
        hist[r["order_id"]].append((r["_extract"], parse_ts(r["updated_at"]), r["status"]))
    changed = 0
    for versions in hist.values():
        versions.sort()
        assert len({v[0] for v in versions}) == len(versions)  # one state per key per extract
        for (d1, t1, s1), (d2, t2, s2) in zip(versions, versions[1:]):
            assert t2 > t1
            if s1 == "completed" and s2 in ("cancelled", "returned"):
                changed += 1
    assert changed > 0
    # tickets: new/open first, later solved/closed with timestamps filled
    th = defaultdict(list)
    for r in read_rows(out, "tickets"):
        th[r["ticket_id"]].append(r)
    progressed = [v for v in th.values() if len(v) > 1 and v[0]["status"] in ("new", "open")
                  and v[-1]["status"] in ("solved", "closed")]
    assert progressed
    for v in progressed:
        assert v[0]["solved_at"] is None and v[-1]["solved_at"] and v[-1]["first_response_at"]
        assert parse_ts(v[-1]["updated_at"]) > parse_ts(v[0]["updated_at"])
    # customers: standard -> gold with the other fields unchanged
    ch = defaultdict(list)
    for r in read_rows(out, "customers"):
        ch[r["customer_id"]].append(r)
    upgrades = 0
    for v in ch.values():
        for a, b in zip(v, v[1:]):
            assert parse_ts(b["updated_at"]) > parse_ts(a["updated_at"])
            if a["tier"] == "standard" and b["tier"] == "gold":
                upgrades += 1
                assert (a["name"], a["region"], a["email"]) == (b["name"], b["region"], b["email"])
                assert parse_ts(a["created_at"]) == parse_ts(b["created_at"])  # same instant, any rendering
    assert upgrades > 0


def test_orders_exported_before_their_customer(clean):
    out, _ = clean
    first_cust = {}
    for r in read_rows(out, "customers"):
        first_cust[r["customer_id"]] = min(first_cust.get(r["customer_id"], r["_extract"]), r["_extract"])
    early = [r for r in read_rows(out, "orders") if r["_extract"] < first_cust[r["customer_id"]]]
    assert early
    # every order's customer shows up eventually
    assert {r["customer_id"] for r in read_rows(out, "orders")} <= set(first_cust)


def test_identity_variants(clean):
    out, _ = clean
    customers = read_rows(out, "customers")
    ids = {r["customer_id"] for r in customers}
    assert all(re.fullmatch(r"C\d{6,}", i) for i in ids)
    phones = [r["phone"] for r in customers if r["phone"]]
    assert all(re.fullmatch(r"\+\d{8,15}", p) for p in phones)
    assert any(re.fullmatch(r"\+861[358]\d{9}", p) for p in phones)
    assert any(not p.startswith("+86") for p in phones)
    emails = defaultdict(set)
    for r in customers:
        if r["email"]:
            assert r["email"] == r["email"].strip().lower()
            emails[r["email"]].add(r["customer_id"])
    assert any(len(v) >= 2 for v in emails.values()), "expected a shared mailbox"
    # help desk and survey write identities differently
    tickets = read_rows(out, "tickets")
    responses = read_rows(out, "responses")
    other_emails = [t["requester"]["email"] for t in tickets] + [r["email"] for r in responses]
    other_emails = [e for e in other_emails if e]
    assert any(e != e.strip() for e in other_emails)
    assert any(e.strip() != e.strip().lower() for e in other_emails)
    assert any(e.strip().lower() not in emails for e in other_emails)  # unknown addresses
    other_phones = [t["requester"]["phone"] for t in tickets] + [r["phone"] for r in responses]
    other_phones = [p for p in other_phones if p]
    assert any(re.search(r"[ \-()]", p) for p in other_phones)
    assert any(re.fullmatch(r"1[358]\d{9}", p) for p in other_phones)
    assert any(t["requester"]["email"] is None and t["requester"]["phone"] is None for t in tickets)
    assert any(t["customer_id"] is None for t in tickets)
    linked = [t["customer_id"] for t in tickets if t["customer_id"]] + \
             [r["customer_id"] for r in responses if r["customer_id"]]
    assert linked and all(re.fullmatch(r"C\d{6,}", c) for c in linked)
    assert any(c not in ids for c in linked) or len(linked) < 30  # non-existent ids appear at scale


def test_survey_content(clean):
    out, _ = clean
    responses = read_rows(out, "responses")
    assert responses
    for r in responses:
        assert 0 <= int(r["nps"]) <= 10 and 1 <= int(r["csat"]) <= 5
        for k in ("reliability", "assurance", "tangibles", "empathy", "responsiveness"):
            assert r[k] is None or 1 <= int(r[k]) <= 5
        assert r["category_spend_12m"] is None or re.fullmatch(r"\d+\.\d{2}", r["category_spend_12m"])
    assert len({r["response_id"] for r in responses}) == len(responses)


def test_products_and_purchase_behaviour(clean):
    out, _ = clean
    products = read_rows(out, "products")
    cats = {r["category"] for r in products}
    assert 8 <= len(cats) <= 12
    assert 30 <= len({r["product_id"] for r in products}) <= 400
    for r in products:
        assert float(r["unit_cost"]) < float(r["list_price"])
    orders = read_rows(out, "orders")
    assert {r["status"] for r in orders} <= set(g.ORDER_STATUS)
    per_cust = defaultdict(set)
    for r in orders:
        per_cust[r["customer_id"]].add(r["order_id"])
    counts = sorted(len(v) for v in per_cust.values())
    assert counts[0] == 1 and counts[-1] >= 4  # one-time buyers and repeat buyers
    customers = {r["customer_id"] for r in read_rows(out, "customers")}
    assert len(customers - set(per_cust)) > 0  # prospects never buy


def test_bad_rows_appear_at_high_rate(dirty):
    out, counts = dirty
    for ent, kinds in g.BAD_KINDS.items():
        got = counts[ent]["bad"]
        assert set(got) == {g.BAD_KIND_NAMES[k - 1] for k in kinds}
        if ent != "products":  # products are few; still usually bad
            assert all(v > 0 for v in got.values()), (ent, got)
        assert sum(got.values()) < counts[ent]["rows"]
    # the files are still readable as a whole, and the bad values are really there
    cust = read_rows(out, "customers")
    assert any(r["customer_id"] is None for r in cust)
    assert any(try_ts(r["updated_at"]) is None or try_ts(r["created_at"]) is None for r in cust)
    orders = read_rows(out, "orders")
    assert any(r["status"] not in g.ORDER_STATUS for r in orders)
    assert any(r["order_id"] is None for r in orders)
    lines = read_rows(out, "order_lines")
    assert any(r["quantity"].lstrip("-").isdigit() and int(r["quantity"]) < 0 for r in lines)
    assert any(not re.fullmatch(r"-?\d+", r["quantity"]) or not re.fullmatch(r"\d+\.\d{2}", r["unit_price"])
               for r in lines)
    tickets = read_rows(out, "tickets")
    assert any(t["ticket_id"] is None for t in tickets)
    assert any(t["status"] not in g.T_STATUS for t in tickets)
    assert any(t["type"] not in g.T_TYPES for t in tickets)
    responses = read_rows(out, "responses")
    keyed = defaultdict(list)
    for r in responses:
        keyed[r["response_id"]].append(r)
    dups = [v for k, v in keyed.items() if k and len(v) > 1]
    assert dups and all(v[0] == v[1] for v in dups)  # exact repeats
    out_of_range = [r for r in responses if not (0 <= int(r["nps"]) <= 10) or not (1 <= int(r["csat"]) <= 5)
                    or (r["reliability"] and int(r["reliability"]) > 5)]
    assert out_of_range


def test_full_dump_until_and_cli(tmp_path):
    out = tmp_path / "dump"
    parser = argparse.ArgumentParser(prog="c360")
    sub = parser.add_subparsers()
    g.register(sub)
    args = parser.parse_args(["generate", "--customers", "150", "--days", "90", "--seed", "5",
                              "--out", str(out), "--extract-every-days", "3", "--bad-row-rate", "0",
                              "--full-dump-until", "2026-05-31"])
    assert args.func is g.run_from_args
    assert args.func(args) == 0
    d0 = dt.date(2026, 5, 31)
    dates = expected_dates(90, 3, full_dump_until="2026-05-31")
    assert dates[0] == d0 and all(d > d0 for d in dates[1:])
    for ent in g.ENTITIES:
        got = [extract_date(p) for p in files_of(out, ent)]
        assert got and set(got) <= set(dates) and got == sorted(got)
    cust = read_rows(out, "customers")
    first = [r for r in cust if r["_extract"] == d0]
    assert len({r["customer_id"] for r in first}) == len(first) > 50  # one current state per key
    for ent, col in TS_KEYS.items():
        for r in read_rows(out, ent):
            day = parse_ts(r[col]).date()
            if r["_extract"] == d0:
                assert day <= d0
            else:
                assert day > d0
    # the dump holds history: orders dated well before the dump date
    assert min(parse_ts(r["ordered_at"]).date() for r in read_rows(out, "orders")) < d0 - dt.timedelta(days=30)


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        g.generate(tmp_path, customers=10, days=10, seed=1, full_dump_until="2027-01-01")
    with pytest.raises(ValueError):
        g.generate(tmp_path, customers=0, days=10, seed=1)
    with pytest.raises(ValueError):
        g.generate(tmp_path, customers=10, days=10, seed=1, extract_every_days=0)
