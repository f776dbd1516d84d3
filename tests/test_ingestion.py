"""Ingestion on a real DuckDB file: every bad row kind quarantined with its reason, every bad file
kind rejected whole, the formats sources.md allows, schema drift, and idempotent loading.

These call the loader directly (no Dagster, no dbt), so each case costs milliseconds.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.defs.ingest.contract import (
    CUSTOMERS,
    ENTITIES,
    ORDER_LINES,
    ORDERS,
    PRODUCTS,
    RESPONSES,
    TICKETS,
)
from dagster_project.defs.ingest.assets import extract_freshness, raw_row_counts
from dagster_project.defs.ingest import loader
from dagster_project.defs.ingest.loader import load_entity, rejection_message
from tests.sources import customer, line, order, product, response, ticket, write_csv, write_tickets

ENTITY = {e.name: e for e in ENTITIES}
TS = "2024-06-01T10:00:00Z"


@pytest.fixture
def con(tmp_path):
    """A fresh working file, connected as the refresh connects (UTC session)."""
    connection = duckdb.connect(str(tmp_path / "work.duckdb"))
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


@pytest.fixture
def src(tmp_path) -> Path:
    return tmp_path / "sources"


def load(con, entity, src):
    return load_entity(con, entity, src, load_id="test-load", log=lambda message: None)


def raw_rows(con, entity) -> list[dict]:
    cursor = con.execute(f"select * from {entity.raw_table} order by _file_id, _line")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def assert_raw_identity(con, entity, summary) -> None:
    """Raw rows = rows read from files = accepted + quarantined: in the counts the asset check reads,
    and in the load's summary."""
    counts = raw_row_counts(con, entity)
    assert counts["raw_rows"] == counts["rows_read_from_files"] == summary.rows_read
    assert counts["quarantined_rows"] == counts["quarantined_rows_logged"] == summary.rows_quarantined
    assert counts["accepted_rows"] + counts["quarantined_rows"] == counts["raw_rows"]
    assert sum(summary.quarantine_reasons.values()) == summary.rows_quarantined
    metadata = summary.as_metadata()
    assert metadata["rows_accepted"] + metadata["rows_quarantined"] == metadata["rows_read"]


# --- bad rows: (entity, rows with the reason each must get; None = accepted) -------------------------

BAD_ROWS = {
    "customers": [
        (customer("C1"), None),
        (customer("C2", tier=" Gold ", updated_at="2024-06-01T10:00:00+08:00"), None),
        (customer("C3", updated_at="2024-06-01"), None),
        (customer(None), "missing_key:customer_id"),
        (customer("   "), "missing_key:customer_id"),
        (customer("C4", updated_at=""), "missing_value:updated_at"),
        (customer("C5", updated_at="not-a-date"), "bad_timestamp:updated_at"),
        (customer("C6", updated_at="2025-02-30T10:00:00Z"), "bad_timestamp:updated_at"),
        (customer("C7", updated_at="epoch"), "bad_timestamp:updated_at"),
        (customer("C8", updated_at="infinity"), "bad_timestamp:updated_at"),
        (customer("C9", updated_at="31/02/2025 25:61"), "bad_timestamp:updated_at"),
        (customer("C10", created_at="yesterday"), "bad_timestamp:created_at"),
        (customer("C11", tier="platinum"), "unknown_value:tier"),
        (customer(None, updated_at="never"), "missing_key:customer_id"),  # the most basic reason wins
    ],
    "products": [
        (product("P1", "toys"), None),
        (product("P2", "toys", unit_cost="", list_price="1e3"), None),
        (product(None, "toys"), "missing_key:product_id"),
        (product("P3", "toys", unit_cost="12,5x"), "bad_number:unit_cost"),
        (product("P4", "toys", unit_cost="1_000"), "bad_number:unit_cost"),
        (product("P5", "toys", unit_cost="NaN"), "bad_number:unit_cost"),
        (product("P6", "toys", list_price="-0.01"), "out_of_range:list_price"),
        (product("P7", "toys", list_price="1e12"), "out_of_range:list_price"),
        (product("P8", "toys", list_price="1e40"), "out_of_range:list_price"),
        ({**product("P9", "toys"), "updated_at": "2024-13-01T00:00:00Z"}, "bad_timestamp:updated_at"),
    ],
    "orders": [
        (order("O1", "C1", TS), None),
        (order("O2", "C1", TS, status="COMPLETED"), None),
        (order("O3", "C1", TS, status="returned"), None),
        (order(None, "C1", TS), "missing_key:order_id"),
        (order("O4", None, TS), "missing_key:customer_id"),
        (order("O5", "C1", TS, status="shipped"), "unknown_value:status"),
        (order("O6", "C1", TS, status=""), "missing_value:status"),
        (order("O7", "C1", "2024-06-01 25:00", updated_at=TS), "bad_timestamp:ordered_at"),
        (order("O8", "C1", TS, updated_at="2024/06/01"), "bad_timestamp:updated_at"),
    ],
    "order_lines": [
        (line("O1", 1, "P1", "2", "10.00"), None),
        (line("O1", 2, "P1", "1", "10.00", discount_amount="", unit_cost=""), None),
        (line(None, 1, "P1", "1", "1"), "missing_key:order_id"),
        (line("O1", None, "P1", "1", "1"), "missing_key:line_number"),
        (line("O1", 3, None, "1", "1"), "missing_key:product_id"),
        (line("O1", "1.5", "P1", "1", "1"), "bad_number:line_number"),
        (line("O1", "99999999999", "P1", "1", "1"), "out_of_range:line_number"),
        (line("O1", 4, "P1", "", "1"), "missing_value:quantity"),
        (line("O1", 5, "P1", "-2", "1"), "out_of_range:quantity"),
        (line("O1", 6, "P1", "1", "#VALUE!"), "bad_number:unit_price"),
        (line("O1", 7, "P1", "1", "3.4.5"), "bad_number:unit_price"),
        (line("O1", 8, "P1", "1", "5", discount_amount="-1"), "out_of_range:discount_amount"),
        (line("O1", 9, "P1", "1", "5", unit_cost="twelve"), "bad_number:unit_cost"),
    ],
    "responses": [
        (response("S1", TS, nps="0", csat="5"), None),
        (response("S2", TS, nps="10", csat="1", reliability="1", category_spend_12m="0"), None),
        (response(None, TS, nps="5"), "missing_key:response_id"),
        (response("S3", "", nps="5"), "missing_value:submitted_at"),
        (response("S4", "not-a-date", nps="5"), "bad_timestamp:submitted_at"),
        (response("S5", TS, nps="11"), "out_of_range:nps"),
        (response("S6", TS, nps="-1"), "out_of_range:nps"),
        (response("S7", TS, nps="7.5"), "bad_number:nps"),
        (response("S8", TS, csat="0"), "out_of_range:csat"),
        (response("S9", TS, csat="6"), "out_of_range:csat"),
        (response("S10", TS, empathy="7"), "out_of_range:empathy"),
        (response("S11", TS, responsiveness="x"), "bad_number:responsiveness"),
        (response("S12", TS, category_spend_12m="-5"), "out_of_range:category_spend_12m"),
        (response("S13", TS, category_spend_12m="lots"), "bad_number:category_spend_12m"),
        (response("S1", TS, nps="3"), "duplicate:response_id"),  # a repeated response_id
        (response("S5", TS, nps="9"), None),  # the first copy was unreadable: this one is the response
    ],
}


@pytest.mark.parametrize("entity_name", sorted(BAD_ROWS))
def test_every_bad_row_kind_is_quarantined_with_its_reason(con, src, entity_name):
    entity = ENTITY[entity_name]
    cases = BAD_ROWS[entity_name]
    write_csv(src, entity_name, "2024-06-01", [row for row, _ in cases])
    summary = load(con, entity, src)
    rows = raw_rows(con, entity)
    assert [row["_quarantine_reason"] for row in rows] == [reason for _, reason in cases]
    assert [row["_line"] for row in rows] == list(range(1, len(cases) + 1))
    assert {row["_file"] for row in rows} == {f"{entity_name}_2024-06-01.csv"}
    assert {row["_load_id"] for row in rows} == {"test-load"}
    assert_raw_identity(con, entity, summary)
    expected = [reason for _, reason in cases if reason]
    assert summary.quarantine_reasons == {r: expected.count(r) for r in set(expected)}


TICKET_CASES = [
    (ticket("T1", TS), None),
    (ticket(7, TS, customer_id=42), None),  # numeric ids are kept as their digits
    ({**ticket("T2", TS), "status": "SOLVED", "requester": None}, None),
    (ticket(None, TS), "missing_key:ticket_id"),
    ({k: v for k, v in ticket("T3", TS).items() if k != "created_at"}, "missing_value:created_at"),
    (ticket("T4", "soon"), "bad_timestamp:created_at"),
    (ticket("T5", TS, first_response_at="2024-06-01T10:00:00 UTC"), "bad_timestamp:first_response_at"),
    (ticket("T6", TS, status="escalated"), "unknown_value:status"),
    (ticket("T7", TS, ticket_type="feedback"), "unknown_value:type"),
    ({**ticket("T8", TS), "priority": "critical"}, "unknown_value:priority"),
    ({**ticket("T9", TS), "channel": "fax"}, "unknown_value:channel"),
    ({**ticket("T10", TS), "satisfaction": "meh"}, "unknown_value:satisfaction"),
    ([1, 2], "not_an_object:record"),
    ("just text", "not_an_object:record"),
]


def test_every_bad_ticket_kind_is_quarantined_with_its_reason(con, src):
    write_tickets(src, "2024-06-01", [t for t, _ in TICKET_CASES])
    summary = load(con, TICKETS, src)
    rows = raw_rows(con, TICKETS)
    assert [row["_quarantine_reason"] for row in rows] == [reason for _, reason in TICKET_CASES]
    assert rows[1]["ticket_id"] == "7" and rows[1]["customer_id"] == "42"
    assert rows[2]["status"] == "SOLVED" and rows[2]["requester_email"] is None
    assert json.loads(rows[0]["_record"])["ticket_id"] == "T1"  # the line itself is kept
    assert_raw_identity(con, TICKETS, summary)


def test_a_duplicate_response_in_a_later_file_is_quarantined(con, src):
    write_csv(src, "responses", "2024-06-01", [response("S1", TS, nps="9")])
    load(con, RESPONSES, src)
    write_csv(src, "responses", "2024-06-02", [response("S1", TS, nps="2"), response("S2", TS, nps="8")])
    summary = load(con, RESPONSES, src)
    reasons = [(r["_file"], r["response_id"], r["_quarantine_reason"]) for r in raw_rows(con, RESPONSES)]
    assert reasons == [
        ("responses_2024-06-01.csv", "S1", None),
        ("responses_2024-06-02.csv", "S1", "duplicate:response_id"),
        ("responses_2024-06-02.csv", "S2", None),
    ]
    assert summary.quarantine_reasons == {"duplicate:response_id": 1}


# --- bad files ---------------------------------------------------------------------------------------

GOOD_CUSTOMERS = "customer_id,name,email,phone,tier,region,acquisition_channel,sales_rep_id,created_at,updated_at\n"
GOOD_ROW = "C1,Ann,a@x.com,,gold,north,web,R1,2023-01-01,2024-01-01\n"


def _customers_bytes(*rows: str, header: str = GOOD_CUSTOMERS) -> bytes:
    return (header + "".join(rows)).encode()


def _tickets_bytes(*records: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


BAD_FILES = [
    # (id, entity, file name, content, words the reason must contain)
    ("missing_required_column", CUSTOMERS, "customers_2024-06-02.csv",
     _customers_bytes("C1,Ann,,gold,north,web,R1,2023-01-01,2024-01-01\n",
                      header=GOOD_CUSTOMERS.replace("email,", "")),
     ["required column(s) missing: email"]),
    ("broken_encoding_csv", CUSTOMERS, "customers_2024-06-02.csv",
     _customers_bytes(GOOD_ROW, GOOD_ROW.replace("Ann", "Ren\xe9e"), GOOD_ROW).replace(
         "Ren\xe9e".encode(), b"Ren\xe9e"),
     ["broken encoding", "not UTF-8", "line 3"]),
    ("utf16_csv", CUSTOMERS, "customers_2024-06-02.csv",
     _customers_bytes(GOOD_ROW).decode().encode("utf-16"),
     ["broken encoding"]),
    ("broken_encoding_jsonl", TICKETS, "tickets_2024-06-02.jsonl",
     _tickets_bytes(ticket("T1", TS)) + b'{"ticket_id": "T2", "comment": "caf\xe9"}\n',
     ["broken encoding", "line 2"]),
    ("truncated_json", TICKETS, "tickets_2024-06-02.jsonl",
     _tickets_bytes(ticket("T1", TS), ticket("T2", TS))[:-40],
     ["truncated or malformed JSON at line 2"]),
    ("malformed_json_line", TICKETS, "tickets_2024-06-02.jsonl",
     _tickets_bytes(ticket("T1", TS)) + b'{"ticket_id": "T2",, }\n' + _tickets_bytes(ticket("T3", TS)),
     ["malformed JSON at line 2"]),
    ("empty_csv", CUSTOMERS, "customers_2024-06-02.csv", b"", ["empty file"]),
    ("empty_jsonl", TICKETS, "tickets_2024-06-02.jsonl", b"", ["empty file"]),
    ("blank_jsonl", TICKETS, "tickets_2024-06-02.jsonl", b"\n  \r\n\n", ["no records"]),
    ("header_only", CUSTOMERS, "customers_2024-06-02.csv", _customers_bytes(), ["header only"]),
    ("header_only_crlf_bom", CUSTOMERS, "customers_2024-06-02.csv",
     b"\xef\xbb\xbf" + GOOD_CUSTOMERS.replace("\n", "\r\n").encode() + b"\r\n", ["header only"]),
    ("row_with_extra_field", CUSTOMERS, "customers_2024-06-02.csv",
     _customers_bytes(GOOD_ROW, GOOD_ROW.replace("\n", ",surplus\n")),
     ["not valid CSV at line 3", "11 fields where the header has 10"]),
    ("unterminated_quote", CUSTOMERS, "customers_2024-06-02.csv",
     _customers_bytes(GOOD_ROW, 'C2,"Ann,,,gold,north,web,R1,2023-01-01,2024-01-01\n', GOOD_ROW),
     ["not valid CSV", "quoted field is never closed"]),
    ("duplicate_column", CUSTOMERS, "customers_2024-06-02.csv",
     _customers_bytes(GOOD_ROW.replace("\n", ",x\n"), header=GOOD_CUSTOMERS.replace("\n", ",email\n")),
     ["duplicate column names: email"]),
    ("required_field_in_no_record", TICKETS, "tickets_2024-06-02.jsonl",
     _tickets_bytes(*({k: v for k, v in ticket(f"T{i}", TS).items() if k != "status"} for i in range(3))),
     ["required field missing from every record: status"]),
]


@pytest.mark.parametrize("entity, name, content, words",
                         [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_every_bad_file_kind_is_rejected_whole(con, src, entity, name, content, words):
    # a good extract before it, which loads; then the bad one, which must not half-load
    if entity is TICKETS:
        write_tickets(src, "2024-06-01", [ticket("T0", TS)])
    else:
        write_csv(src, entity.name, "2024-06-01", [customer("C0")])
    bad = src / entity.system / name
    bad.write_bytes(content)
    summary = load(con, entity, src)

    assert list(summary.rejected) == [name]
    for word in words:
        assert word in summary.rejected[name]
    message = rejection_message([summary], src)
    assert f"{src}/{entity.system}/{name}: " in message and words[0] in message
    assert summary.files_loaded == 1
    assert {row["_file"] for row in raw_rows(con, entity)} == {bad.name.replace("2024-06-02", "2024-06-01")}
    loaded = con.execute("select file_name from ops.loaded_files").fetchall()
    assert loaded == [(bad.name.replace("2024-06-02", "2024-06-01"),)]
    rejected = con.execute("select file_name, reason, load_id from ops.rejected_files").fetchall()
    assert rejected == [(name, summary.rejected[name], "test-load")]
    assert_raw_identity(con, entity, summary)
    # no temp table of the failed load is left behind in the session
    assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone()[0] == 0

    # still rejected on the next refresh, until someone fixes or removes the file
    again = load(con, entity, src)
    assert list(again.rejected) == [name] and again.files_skipped == 1


def test_a_rejected_file_loads_once_it_is_fixed(con, src):
    path = src / "sales" / "customers_2024-06-01.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(_customers_bytes())
    assert list(load(con, CUSTOMERS, src).rejected) == ["customers_2024-06-01.csv"]
    path.write_bytes(_customers_bytes(GOOD_ROW))
    summary = load(con, CUSTOMERS, src)
    assert summary.rejected == {} and summary.files_loaded == 1
    assert [r["customer_id"] for r in raw_rows(con, CUSTOMERS)] == ["C1"]


# --- formats sources.md allows ----------------------------------------------------------------------

def test_bom_crlf_quoted_fields_and_any_column_order(con, src):
    header = "updated_at,tier,customer_id,name,email,phone,region,acquisition_channel,sales_rep_id,created_at"
    rows = [
        '2024-01-01T00:00:00Z,gold,C1,"Smith, Ann","a@x.com",,north,web,R1,2023-01-01',
        '2024-01-01T00:00:00Z,standard,C2,"Say ""hi""\r\nsecond line",,"+86 138 0000 0000",south,web,R2,',
        "2024-01-01T00:00:00Z,standard,C3,Zoë 王,,,,,,",
    ]
    path = src / "sales" / "customers_2024-06-01.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))
    summary = load(con, CUSTOMERS, src)
    assert summary.rejected == {} and summary.rows_quarantined == 0
    got = {r["customer_id"]: r for r in raw_rows(con, CUSTOMERS)}
    assert got["C1"]["name"] == "Smith, Ann" and got["C1"]["tier"] == "gold"
    assert got["C1"]["updated_at"] == "2024-01-01T00:00:00Z" and got["C1"]["email"] == "a@x.com"
    assert got["C2"]["name"] == 'Say "hi"\r\nsecond line'
    assert got["C2"]["phone"] == "+86 138 0000 0000" and got["C2"]["email"] is None  # empty is null
    assert got["C3"]["name"] == "Zoë 王"
    assert [got[c]["_line"] for c in ("C1", "C2", "C3")] == [1, 2, 3]


def test_jsonl_with_bom_crlf_and_blank_lines(con, src):
    lines = [json.dumps(ticket("T1", TS), ensure_ascii=False), "",
             json.dumps({**ticket("T2", TS), "requester": {"name": "Zoë, \"Z\"", "email": "z@x.com"}},
                        ensure_ascii=False)]
    path = src / "service" / "tickets_2024-06-01.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    summary = load(con, TICKETS, src)
    assert summary.rejected == {} and summary.rows_read == 2 and summary.rows_quarantined == 0
    got = {r["ticket_id"]: r for r in raw_rows(con, TICKETS)}
    assert got["T2"]["requester_name"] == 'Zoë, "Z"' and got["T2"]["requester_email"] == "z@x.com"
    assert [got["T1"]["_line"], got["T2"]["_line"]] == [1, 3]  # the file's own line numbers


def test_unknown_extra_columns_are_kept_in_raw_and_reported_as_drift(con, src):
    path = write_csv(src, "orders", "2024-06-01", [{**order("O1", "C1", TS), "loyalty_points": "12"}],
                     columns=[*ORDERS.columns, "loyalty_points"])
    path.write_text(path.read_text().replace("\n", ",\n"))  # a trailing comma: an unnamed column
    summary = load(con, ORDERS, src)
    assert summary.schema_drift == {"orders_2024-06-01.csv": ["loyalty_points", "_column_8"]}
    (row,) = raw_rows(con, ORDERS)
    assert row["_quarantine_reason"] is None
    assert json.loads(row["_extra"]) == {"loyalty_points": "12", "_column_8": None}
    assert con.execute("select extra_columns from ops.loaded_files").fetchone()[0] == "loyalty_points, _column_8"

    write_tickets(src, "2024-06-01", [{**ticket("T1", TS), "sla_breached": True}])
    tickets = load(con, TICKETS, src)
    assert tickets.schema_drift == {"tickets_2024-06-01.jsonl": ["sla_breached"]}
    assert json.loads(raw_rows(con, TICKETS)[0]["_record"])["sla_breached"] is True


def test_a_file_already_loaded_is_skipped(con, src):
    path = write_csv(src, "products", "2024-06-01", [product("P1", "toys")])
    first = load(con, PRODUCTS, src)
    assert (first.files_loaded, first.files_skipped) == (1, 0)
    again = load(con, PRODUCTS, src)
    assert (again.files_loaded, again.files_skipped, again.rows_read) == (0, 1, 0)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # touched, same bytes
    touched = load(con, PRODUCTS, src)
    assert (touched.files_loaded, touched.files_skipped) == (0, 1)
    assert len(raw_rows(con, PRODUCTS)) == 1
    assert con.execute("select count(*) from ops.loaded_files").fetchone()[0] == 1


def test_a_changed_file_with_the_same_name_is_loaded_again(con, src):
    write_csv(src, "products", "2024-06-01", [product("P1", "toys", list_price="10.00")])
    load(con, PRODUCTS, src)
    write_csv(src, "products", "2024-06-01", [product("P1", "toys", list_price="12.00"), product("P2", "games")])
    summary = load(con, PRODUCTS, src)
    assert (summary.files_loaded, summary.rows_read) == (1, 2)
    rows = raw_rows(con, PRODUCTS)
    assert [(r["product_id"], r["list_price"]) for r in rows] == [("P1", "10.00"), ("P1", "12.00"), ("P2", "10.00")]
    # the later load of the same extract is the later file: it wins ties in staging
    assert rows[1]["_file_id"] > rows[0]["_file_id"]
    logged = con.execute("select count(distinct sha256), count(*), sum(rows_read) from ops.loaded_files")
    assert logged.fetchone() == (2, 2, 3)


def test_files_of_other_entities_and_unrecognised_names_are_ignored(con, src):
    write_csv(src, "orders", "2024-06-01", [order("O1", "C1", TS)])
    write_csv(src, "order_lines", "2024-06-01", [line("O1", 1, "P1", "1", "1")])
    (src / "sales" / "orders_latest.csv").write_text("not an extract name\n")
    (src / "sales" / "orders_2024-06-02.csv.tmp").write_text("partial download\n")
    summary = load(con, ORDERS, src)
    assert (summary.files_loaded, summary.rejected) == (1, {})
    assert [r["order_id"] for r in raw_rows(con, ORDERS)] == ["O1"]
    assert load(con, ORDER_LINES, src).files_loaded == 1


def test_freshness_compares_the_newest_extract_with_the_threshold(con, src):
    write_csv(src, "orders", "2024-05-20", [order("O1", "C1", TS)])
    write_csv(src, "orders", "2024-06-01", [order("O2", "C1", TS)])
    load(con, ORDERS, src)
    load(con, PRODUCTS, src)  # no products extract at all
    fresh = extract_freshness(con, ORDERS, date(2024, 6, 3), threshold_days=2)
    assert (fresh["fresh"], fresh["newest_extract_date"], fresh["age_days"]) == (True, "2024-06-01", 2)
    assert "problem" not in fresh
    stale = extract_freshness(con, ORDERS, date(2024, 6, 4), threshold_days=2)
    assert stale["fresh"] is False
    assert stale["problem"] == "newest sales/orders extract is from 2024-06-01, 3 day(s) old (threshold 2)"
    missing = extract_freshness(con, PRODUCTS, date(2024, 6, 4), threshold_days=2)
    assert missing["fresh"] is False and missing["problem"] == "no sales/products extract has been loaded"


# --- batches: the pending files of an entity read together -----------------------------------------

def _file_rows(path: Path) -> list[dict]:
    """The data rows of a CSV extract as Python reads them, in file order."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _loaded_files(con) -> list[tuple]:
    return con.execute(
        "select file_name, file_id, rows_read, rows_quarantined, extra_columns from ops.loaded_files "
        "order by file_id").fetchall()


def test_a_malformed_file_in_a_batch_gets_its_own_message_and_the_rest_load(con, src, tmp_path):
    sizes = {"2024-06-01": 3, "2024-06-02": 2500, "2024-06-04": 1, "2024-06-05": 40}
    for day, size in sizes.items():
        write_csv(src, "customers", day, [customer(f"C{day}-{n}") for n in range(1, size + 1)])
    bad_name = "customers_2024-06-03.csv"
    bad_bytes = _customers_bytes(GOOD_ROW, GOOD_ROW, GOOD_ROW.replace("\n", ",surplus\n"), GOOD_ROW)
    (src / "sales" / bad_name).write_bytes(bad_bytes)
    # the same file alone in a fresh working file: the message the batch must give too
    alone_src = tmp_path / "alone"
    (alone_src / "sales").mkdir(parents=True)
    (alone_src / "sales" / bad_name).write_bytes(bad_bytes)
    alone_con = duckdb.connect(str(tmp_path / "alone.duckdb"))
    alone = load(alone_con, CUSTOMERS, alone_src)
    alone_con.close()
    assert alone.rejected[bad_name] == "not valid CSV at line 4: 11 fields where the header has 10"

    summary = load(con, CUSTOMERS, src)

    assert summary.rejected == alone.rejected
    assert con.execute("select file_name, reason from ops.rejected_files").fetchall() == [
        (bad_name, alone.rejected[bad_name])]
    assert summary.files_loaded == 4 and summary.rows_read == sum(sizes.values())
    loaded = _loaded_files(con)
    assert [(name, rows) for name, _, rows, _, _ in loaded] == [
        (f"customers_{day}.csv", size) for day, size in sizes.items()]
    file_ids = [file_id for _, file_id, _, _, _ in loaded]
    assert file_ids == sorted(file_ids) and len(set(file_ids)) == 4  # file ids grow in file order
    for day, size in sizes.items():
        lines = [(r["customer_id"], r["_line"]) for r in raw_rows(con, CUSTOMERS)
                 if r["_file"] == f"customers_{day}.csv"]
        assert lines == [(f"C{day}-{n}", n) for n in range(1, size + 1)]
    assert_raw_identity(con, CUSTOMERS, summary)


def test_line_numbers_are_per_file_in_a_multi_file_batch(con, src):
    # two header groups (the contract order, and another order with an extra column), files of very
    # different sizes, a quoted field over two lines: _line is the data row's number in its own file
    write_csv(src, "orders", "2024-06-01", [order(f"A{n}", "C1", TS) for n in range(1, 30001)])
    write_csv(src, "orders", "2024-06-02", [order(f"B{n}", "C1", TS) for n in range(1, 4)],
              columns=["status", "order_id", "customer_id", "ordered_at", "channel", "updated_at", "note"])
    write_csv(src, "orders", "2024-06-03", [order("D1", "C1", TS),
                                            {**order("D2", "C1", TS), "channel": "two\nlines"},
                                            order("D3", "C1", "not a date")])
    write_csv(src, "orders", "2024-06-04", [order(f"E{n}", "C1", TS) for n in range(1, 12001)])
    summary = load(con, ORDERS, src)

    assert summary.rejected == {} and summary.files_loaded == 4
    rows = raw_rows(con, ORDERS)
    for name in sorted({r["_file"] for r in rows}):
        in_file = [r["order_id"] for r in _file_rows(src / "sales" / name)]
        in_raw = {r["_line"]: r["order_id"] for r in rows if r["_file"] == name}
        assert in_raw == {number: order_id for number, order_id in enumerate(in_file, start=1)}
    d3 = next(r for r in rows if r["order_id"] == "D3")
    assert (d3["_line"], d3["_quarantine_reason"]) == (3, "bad_timestamp:ordered_at")
    assert summary.schema_drift == {"orders_2024-06-02.csv": ["note"]}
    logged = [(name, read, quarantined, extra) for name, _, read, quarantined, extra in _loaded_files(con)]
    assert logged == [
        ("orders_2024-06-01.csv", 30000, 0, None),
        ("orders_2024-06-02.csv", 3, 0, "note"),
        ("orders_2024-06-03.csv", 3, 1, None),
        ("orders_2024-06-04.csv", 12000, 0, None),
    ]
    assert_raw_identity(con, ORDERS, summary)


RESPONSE_FILES = {
    # the first accepted copy of a response_id wins, in file order then line order
    "2024-06-02": [response("S1", TS), response("S2", ""), response("S3", TS), response("S3", TS),
                   response("S9", TS)],
    "2024-06-03": [response("S1", TS), response("S2", TS), response("S4", TS), response("S2", TS)],
    "2024-06-04": [response("S4", TS), response("S5", TS, nps="11"), response("S3", TS), response("S5", TS)],
}


@pytest.mark.parametrize("batch_files", [50, 2])
def test_the_duplicate_rule_across_the_files_of_a_batch_is_the_file_by_file_rule(
        con, src, tmp_path, monkeypatch, batch_files):
    monkeypatch.setattr(loader, "BATCH_FILES", batch_files)  # one batch, or batches of two files
    write_csv(src, "responses", "2024-06-01", [response("S9", TS)])
    load(con, RESPONSES, src)  # S9 is in the raw table before the batch
    for day, rows in RESPONSE_FILES.items():
        write_csv(src, "responses", day, rows)
    summary = load(con, RESPONSES, src)

    # the same files loaded one load per file, in file order
    one_by_one_src = tmp_path / "one_by_one"
    one_con = duckdb.connect(str(tmp_path / "one_by_one.duckdb"))
    for day, rows in {"2024-06-01": [response("S9", TS)], **RESPONSE_FILES}.items():
        write_csv(one_by_one_src, "responses", day, rows)
        load(one_con, RESPONSES, one_by_one_src)
    expected = [(r["_file"], r["_line"], r["response_id"], r["_quarantine_reason"])
                for r in raw_rows(one_con, RESPONSES)]
    one_con.close()

    got = [(r["_file"], r["_line"], r["response_id"], r["_quarantine_reason"])
           for r in raw_rows(con, RESPONSES)]
    assert got == expected
    assert [(line_number, response_id, reason) for name, line_number, response_id, reason in got
            if name != "responses_2024-06-01.csv"] == [
        (1, "S1", None), (2, "S2", "missing_value:submitted_at"), (3, "S3", None),
        (4, "S3", "duplicate:response_id"), (5, "S9", "duplicate:response_id"),
        (1, "S1", "duplicate:response_id"), (2, "S2", None), (3, "S4", None),
        (4, "S2", "duplicate:response_id"),
        (1, "S4", "duplicate:response_id"), (2, "S5", "out_of_range:nps"), (3, "S3", "duplicate:response_id"),
        (4, "S5", None),
    ]
    assert summary.quarantine_reasons == {"duplicate:response_id": 6, "missing_value:submitted_at": 1,
                                          "out_of_range:nps": 1}
    assert [(name, rows_read, quarantined) for name, _, rows_read, quarantined, _ in _loaded_files(con)] == [
        ("responses_2024-06-01.csv", 1, 0), ("responses_2024-06-02.csv", 5, 3),
        ("responses_2024-06-03.csv", 4, 2), ("responses_2024-06-04.csv", 4, 3)]
    counts = raw_row_counts(con, RESPONSES)
    assert counts["raw_rows"] == counts["rows_read_from_files"] == 1 + summary.rows_read
    assert counts["quarantined_rows"] == counts["quarantined_rows_logged"] == summary.rows_quarantined


def test_a_truncated_jsonl_file_in_a_batch_is_rejected_alone(con, src):
    write_tickets(src, "2024-06-01", [ticket(f"T1-{n}", TS) for n in range(1, 4)])
    truncated = src / "service" / "tickets_2024-06-02.jsonl"
    truncated.write_bytes(_tickets_bytes(ticket("T2-1", TS), ticket("T2-2", TS))[:-40])
    write_tickets(src, "2024-06-03", [ticket(f"T3-{n}", TS, status="lost" if n == 2 else "open")
                                      for n in range(1, 6)])
    blank = src / "service" / "tickets_2024-06-04.jsonl"
    blank.write_bytes(b"\n\n")
    summary = load(con, TICKETS, src)

    assert list(summary.rejected) == ["tickets_2024-06-02.jsonl", "tickets_2024-06-04.jsonl"]
    assert summary.rejected["tickets_2024-06-02.jsonl"].startswith("truncated or malformed JSON at line 2: ")
    assert summary.rejected["tickets_2024-06-04.jsonl"] == "no records"
    assert [(name, rows_read, quarantined) for name, _, rows_read, quarantined, _ in _loaded_files(con)] == [
        ("tickets_2024-06-01.jsonl", 3, 0), ("tickets_2024-06-03.jsonl", 5, 1)]
    got = [(r["_file"], r["_line"], r["ticket_id"], r["_quarantine_reason"]) for r in raw_rows(con, TICKETS)]
    assert got == [*((("tickets_2024-06-01.jsonl", n, f"T1-{n}", None)) for n in range(1, 4)),
                   *((("tickets_2024-06-03.jsonl", n, f"T3-{n}", "unknown_value:status" if n == 2 else None))
                     for n in range(1, 6))]
    assert_raw_identity(con, TICKETS, summary)
    assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone()[0] == 0


@pytest.mark.parametrize("delimiter, named", [(";", "semicolons (;)"), ("\t", "tabs"), ("|", "pipes (|)")])
def test_a_csv_with_another_delimiter_is_rejected_with_a_hint(con, src, delimiter, named):
    path = write_csv(src, "products", "2024-06-01", [product("P1", "Coffee")])
    path.write_text(path.read_text().replace(",", delimiter))
    summary = load(con, ENTITY["products"], src)
    assert summary.files_loaded == 0
    assert summary.rejected == {
        "products_2024-06-01.csv": "required column(s) missing: product_id, product_name, category, unit_cost, "
        f"list_price, updated_at (the header is separated by {named}; the contract's CSV files use commas)"
    }


def test_a_csv_missing_a_column_gets_no_delimiter_hint(con, src):
    path = write_csv(src, "products", "2024-06-01", [product("P1", "Coffee")])
    path.write_text(path.read_text().replace("category,", "kategorie,"))
    summary = load(con, ENTITY["products"], src)
    assert summary.rejected == {"products_2024-06-01.csv": "required column(s) missing: category"}


def test_the_progress_line_counts_accepted_and_quarantined_rows(con, src):
    write_csv(src, "order_lines", "2024-06-01", [
        line("O1", 1, "P1", 2, "10.00"), line("", 2, "P1", 1, "10.00"), line("O1", 3, "P1", "two", "10.00")])
    messages = []
    load_entity(con, ENTITY["order_lines"], src, load_id="test-load", log=messages.append)
    assert messages == [
        "sales.order_lines: 1 new file(s), 0 already loaded",
        "sales.order_lines: 1/1 new file(s) done: 3 row(s) read, 1 accepted, 2 quarantined "
        "(bad_number:quantity 1, missing_key:order_id 1)",
    ]
