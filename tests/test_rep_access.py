"""Issue 13: each sales rep sees only their own customers, and personal data is masked.

Real `c360 refresh` processes on the sources of tests/rep_sources.py (R1, R2, R3, twenty one-customer
reps, a customer without a rep, three hostile rep ids; day two moves CU-003 from R1 to R2 and
leaves R3 without customers). Refreshes are shared (each costs ~30 s):

  clear:  day one, then day two while readers hold R1's and R3's files open.
  masked: C360_PII=masked on its own copy of the sources: day one; day two killed with SIGKILL
          while the rep files are being written; day two again to the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import threading
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from dagster_project.defs.publish import pii
from dagster_project.defs.publish.mart import PUBLISHED_SCHEMAS
from dagster_project.defs.publish.reps import TEMP_NAME, is_safe_rep_id, remove_stale_rep_temp_files

from .conftest import ROOT, query, run_refresh, start_refresh
from .mart_probe import published_fingerprint
from .rep_sources import (HOSTILE_REP_IDS, PEOPLE, e164, identifiers, personal_strings, reps_on, write_day_one,
                          write_day_two)
from .test_reliability import file_identity, start_probe, stop_probe

REP_TABLES = {"marts.customer_360", "marts.customer_timeline", "marts.my_book"}
HOSTILE_WARNING = "warning: 3 customer(s) of 3 sales_rep_id value(s) that cannot be a file name"


# --- helpers --------------------------------------------------------------------------------------

def rep_files(warehouse: Path) -> dict[str, Path]:
    reps = warehouse.parent / "reps"
    return {p.name[: -len(".duckdb")]: p for p in reps.glob("*.duckdb") if not p.name.startswith(".")}


def tables_of(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table of a DuckDB file: (columns, all rows sorted)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        result = {}
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall():
            cursor = con.execute(f'select * from "{schema}"."{table}" order by all')
            result[f"{schema}.{table}"] = ([d[0] for d in cursor.description], cursor.fetchall())
        return result
    finally:
        con.close()


def table_hits(tables: dict, needles: set[str]) -> list[str]:
    """Where any needle occurs (case-insensitive) in any value, as text, of these tables."""
    lowered = {n.lower() for n in needles}
    found = set()
    for table, (columns, rows) in tables.items():
        for row in rows:
            for column, value in zip(columns, row):
                text = "" if value is None else str(value).lower()
                found |= {f"{table}.{column}: {n!r} in {text[:80]!r}" for n in lowered if n in text}
    return sorted(found)


def hits(path: Path, needles: set[str]) -> list[str]:
    return table_hits(tables_of(path), needles)


def snapshot(warehouse: Path) -> SimpleNamespace:
    files = rep_files(warehouse)
    return SimpleNamespace(
        files={rep: tables_of(path) for rep, path in files.items()},
        identity={rep: file_identity(path) for rep, path in files.items()},
        fingerprint={rep: published_fingerprint(path) for rep, path in files.items()},
        mode={rep: stat.S_IMODE(path.stat().st_mode) for rep, path in files.items()},
        main=tables_of(warehouse),
    )


def column_rows(tables: dict, table: str, column: str) -> list:
    columns, rows = tables[table]
    index = columns.index(column)
    return [row[index] for row in rows]


def refresh_ok(sources: Path, warehouse: Path, **settings: str) -> str:
    result = run_refresh(sources, warehouse, **settings)
    assert result.returncode == 0, result.output
    return result.output


def wait_ready(probes: list[SimpleNamespace]) -> None:
    deadline = time.monotonic() + 120
    while not all(p.ready.exists() for p in probes):
        assert all(p.proc.poll() is None for p in probes) and time.monotonic() < deadline, "a reader did not start"
        time.sleep(0.1)


def kill_while_writing_rep_files(sources: Path, warehouse: Path, **settings: str) -> SimpleNamespace:
    """Start a refresh and SIGKILL it as soon as a temp rep file appears in reps/."""
    proc = start_refresh(sources, warehouse, **settings)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    reps = warehouse.parent / "reps"
    deadline = time.monotonic() + 600
    temps: list[str] = []
    while proc.poll() is None and time.monotonic() < deadline:
        temps = [p.name for p in reps.glob(".*.publishing")] if reps.is_dir() else []
        if temps:
            break
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(timeout=30)
    left = sorted(p.name for p in reps.iterdir() if p.name.startswith("."))
    return SimpleNamespace(temps_seen=temps, left=left, output="".join(lines), code=proc.returncode)


# --- shared refreshes -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def area(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rep_access")


@pytest.fixture(scope="module")
def clear(area):
    sources, warehouse = area / "sources", area / "clear" / "c360.duckdb"
    write_day_one(sources)
    out1 = refresh_ok(sources, warehouse)
    day1 = snapshot(warehouse)
    write_day_two(sources)
    reps = warehouse.parent / "reps"
    holders = [start_probe("hold", reps / f"{rep}.duckdb", area / f"probe_{rep}") for rep in ("R1", "R3")]
    wait_ready(holders)
    out2 = refresh_ok(sources, warehouse)
    held = {rep: stop_probe(probe) for rep, probe in zip(("R1", "R3"), holders)}
    return SimpleNamespace(sources=sources, warehouse=warehouse, outputs=(out1, out2), days=(day1, snapshot(warehouse)),
                           held=held)


@pytest.fixture(scope="module")
def masked(area, clear):
    sources, warehouse = area / "sources_masked", area / "masked" / "c360.duckdb"
    write_day_one(sources)
    refresh_ok(sources, warehouse, pii="masked")
    before = snapshot(warehouse)
    write_day_two(sources)
    killed = kill_while_writing_rep_files(sources, warehouse, pii="masked")
    after_kill = snapshot(warehouse)
    output = refresh_ok(sources, warehouse, pii="masked")
    return SimpleNamespace(warehouse=warehouse, before=before, killed=killed, after_kill=after_kill,
                           output=output, day2=snapshot(warehouse))


# --- rep files ------------------------------------------------------------------------------------

def test_each_rep_file_holds_exactly_its_customers_in_every_table_across_both_refreshes(clear):
    for day, snap in zip((1, 2), clear.days):
        expected = reps_on(day)
        assert set(snap.files) == set(expected), f"day {day}"
        main_c360 = snap.main["marts.customer_360"]
        main_timeline = snap.main["marts.customer_timeline"]
        for rep, customers in expected.items():
            tables = snap.files[rep]
            assert set(tables) == REP_TABLES, (day, rep)  # no audit, ops, cohort or affinity table
            # customer_360 and customer_timeline: exactly the rep's customers, rows as in the main mart
            assert tables["marts.customer_360"][0] == main_c360[0]
            assert tables["marts.customer_360"][1] == [r for r in main_c360[1] if r[0] in customers], (day, rep)
            assert set(column_rows(tables, "marts.customer_360", "sales_rep_id")) == {rep}
            assert tables["marts.customer_timeline"][0] == main_timeline[0]
            assert tables["marts.customer_timeline"][1] == [r for r in main_timeline[1] if r[0] in customers]
            assert set(column_rows(tables, "marts.customer_timeline", "customer_id")) == customers - {"CU-005"}
            book = {row[0]: dict(zip(tables["marts.my_book"][0], row)) for row in tables["marts.my_book"][1]}
            assert set(book) == {"rep", "company"}
            assert (book["rep"]["sales_rep_id"], book["rep"]["customers"]) == (rep, len(customers))
            assert book["company"]["sales_rep_id"] is None and book["company"]["customers"] == len(main_c360[1])


def test_a_customer_who_changes_rep_leaves_the_old_file_and_a_rep_without_customers_has_no_file(clear):
    day1, day2 = clear.days
    assert "CU-003" in column_rows(day1.files["R1"], "marts.customer_360", "customer_id")
    assert "CU-003" not in column_rows(day2.files["R1"], "marts.customer_360", "customer_id")
    assert "CU-003" not in column_rows(day2.files["R1"], "marts.customer_timeline", "customer_id")
    assert "CU-003" in column_rows(day2.files["R2"], "marts.customer_360", "customer_id")
    assert "R3" in day1.files and "R3" not in day2.files
    assert not (clear.warehouse.parent / "reps" / "R3.duckdb").exists()
    assert "removed 1 of reps without customers" in clear.outputs[1]


def test_a_customer_without_a_rep_is_in_no_file(clear):
    for day, snap, nobody in ((1, clear.days[0], {"CU-007"}), (2, clear.days[1], {"CU-006", "CU-007"})):
        for rep, tables in snap.files.items():
            assert not nobody & set(column_rows(tables, "marts.customer_360", "customer_id")), (day, rep)
            assert not nobody & set(column_rows(tables, "marts.customer_timeline", "customer_id")), (day, rep)
    assert "(26 customer(s); 1 without a rep)" in clear.outputs[0]
    assert "(25 customer(s); 2 without a rep)" in clear.outputs[1]


def test_no_rep_file_names_or_describes_a_customer_of_another_rep(clear):
    """Every value of every column of every table, as text, against the id, name, e-mail and phone
    (given and E.164) of every customer who is not the rep's: zero hits, on both days."""
    for day, snap in zip((1, 2), clear.days):
        for rep, customers in reps_on(day).items():
            others = set().union(*(identifiers(cid) for cid in PEOPLE if cid not in customers))
            assert table_hits(snap.files[rep], others) == [], (day, rep)
            assert table_hits(snap.files[rep], identifiers(min(customers))), "the scan finds the rep's own customers"
    for rep, path in rep_files(clear.warehouse).items():  # the files themselves, as a BI tool opens them
        others = set().union(*(identifiers(cid) for cid in PEOPLE if cid not in reps_on(2)[rep]))
        assert hits(path, others) == [], rep


def test_my_book_puts_the_reps_figures_beside_the_companys(clear):
    day2 = clear.days[1]
    r1 = dict(zip(day2.files["R1"]["marts.my_book"][0], [r for r in day2.files["R1"]["marts.my_book"][1]
                                                         if r[0] == "rep"][0]))
    company = dict(zip(day2.files["R1"]["marts.my_book"][0], [r for r in day2.files["R1"]["marts.my_book"][1]
                                                              if r[0] == "company"][0]))
    # R1 on day two: CU-001 (promoter, ok) and CU-002 (detractor, churned: last purchase 2023-03-10)
    assert {k: r1[k] for k in ("customers", "purchasers", "customers_at_churn_risk", "customers_churned",
                               "customers_with_nps", "nps_promoters", "nps_detractors", "nps")} == {
        "customers": 2, "purchasers": 2, "customers_at_churn_risk": 0, "customers_churned": 1,
        "customers_with_nps": 2, "nps_promoters": 1, "nps_detractors": 1, "nps": 0.0}
    # the company: every customer of the mart, reps or not; NPS over the latest responses of
    # CU-001 (10), CU-002 (3), CU-004 (8), CU-006 (9), CU-101 (7): (2 - 1) / 5
    assert company["customers"] == len(PEOPLE) and company["nps"] == pytest.approx(20.0)
    r2 = dict(zip(day2.files["R2"]["marts.my_book"][0], [r for r in day2.files["R2"]["marts.my_book"][1]
                                                         if r[0] == "rep"][0]))
    assert (r2["customers_at_churn_risk"], company["customers_at_churn_risk"]) == (1, 1)  # CU-004, overdue
    for rep, scope in ((r1, {"CU-001", "CU-002"}), (company, set(PEOPLE))):
        rows = query(clear.warehouse, "select * from marts.customer_360 where list_contains(?, customer_id)",
                     [sorted(scope)])
        assert rep["net_revenue_12m"] == pytest.approx(sum(r["net_revenue_12m"] for r in rows))
        assert rep["purchasers"] == sum(r["purchases_lifetime"] > 0 for r in rows)
        assert rep["customers_at_churn_risk"] == sum(r["churn_risk"] == "overdue" for r in rows)
        assert rep["customers_churned"] == sum(r["churn_risk"] == "churned" for r in rows)
        assert rep["as_of_date"] == date(2024, 6, 15)


def test_hostile_rep_ids_write_nothing_outside_reps_and_are_reported(clear, area):
    for output in clear.outputs:
        assert HOSTILE_WARNING in output
    assert not any(is_safe_rep_id(rep) for rep in HOSTILE_REP_IDS)
    assert is_safe_rep_id("R1") and not is_safe_rep_id("..") and not is_safe_rep_id("r\n1") and not is_safe_rep_id("")
    reps = clear.warehouse.parent / "reps"
    assert {p.name for p in reps.iterdir()} == {f"{rep}.duckdb" for rep in reps_on(2)}  # no folder, no temp file
    assert not list(area.rglob("x.duckdb")) and not list(area.rglob("etc")) and not list(area.rglob("b.duckdb"))
    assert {p.name for p in clear.warehouse.parent.iterdir()} == {
        "c360.duckdb", "c360.work.duckdb", "c360.refresh.lock", "dashboard.html", "logs", "reps", "c360.metricflow"}
    assert not list(area.glob("*.duckdb")) and not (area / "etc").exists()


def test_rep_files_carry_the_descriptions_of_the_main_mart_and_of_my_book(clear):
    sql = ("select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts' "
           "and table_name in ('customer_360', 'customer_timeline') order by all")
    rep = query(clear.warehouse.parent / "reps" / "R1.duckdb", sql)
    assert rep == query(clear.warehouse, sql) and any(row["comment"] for row in rep)
    book = query(clear.warehouse.parent / "reps" / "R1.duckdb",
                 "select column_name, comment from duckdb_columns() where table_name = 'my_book'")
    assert book and all(row["comment"] for row in book)


def test_rep_files_are_owner_only(clear, masked):
    for snap in (*clear.days, masked.day2):
        assert snap.mode and set(snap.mode.values()) == {0o600}
    assert stat.S_IMODE((clear.warehouse.parent / "reps").stat().st_mode) == 0o700


def test_a_reader_holding_a_rep_file_open_neither_blocks_the_refresh_nor_is_disturbed(clear):
    # the refresh finished (exit 0) while both files were held; R1's changed, R3's was removed
    for rep in ("R1", "R3"):
        held = clear.held[rep]
        assert held["errors"] == [] and held["reads"] >= 1, rep
        assert held["before"] == held["after"] == clear.days[0].fingerprint[rep], rep
    assert clear.days[1].fingerprint["R1"] != clear.days[0].fingerprint["R1"]


def test_a_refresh_killed_while_writing_rep_files_leaves_the_previous_ones_intact(masked):
    killed = masked.killed
    assert killed.code == -signal.SIGKILL
    assert killed.temps_seen, f"the kill was meant to land while rep files were written:\n{killed.output[-3000:]}"
    assert any(TEMP_NAME.fullmatch(name) for name in killed.left)  # it died half-way
    # every previous rep file is the very same file, with the same content; none added or removed
    assert masked.after_kill.identity == masked.before.identity
    assert masked.after_kill.fingerprint == masked.before.fingerprint
    # (the main file was published before the rep step: it may be the new one, whole)
    # the next refresh removes the dead process's temp files and publishes the new rep files
    assert not [p.name for p in (masked.warehouse.parent / "reps").iterdir() if p.name.startswith(".")]
    assert set(masked.day2.files) == set(reps_on(2))


# --- C360_PII=masked ------------------------------------------------------------------------------

def test_the_masked_main_file_has_no_personal_data_in_clear_in_any_schema(clear, masked):
    needles = personal_strings()
    assert hits(clear.warehouse, needles), "the scan finds personal data in the clear file"
    assert hits(masked.warehouse, needles) == []
    schemas = {table.split(".")[0] for table in masked.day2.main}
    assert {"marts", "audit", "ops"} <= schemas
    assert "personal data masked" in masked.output


def test_masked_values_are_hashes_analysts_can_count_and_join_on(masked):
    rows = {r["customer_id"]: r for r in query(masked.warehouse, "select * from marts.customer_360")}
    for cid, (name, email, phone, *_) in PEOPLE.items():
        row = rows[cid]
        assert row["email"] == hashlib.sha256(email.strip().lower().encode()).hexdigest()
        assert row["phone"] == hashlib.sha256((e164(phone) or phone.strip()).encode()).hexdigest()
        assert row["name"] == name[0] + "***"
    assert rows["CU-005"]["phone"] == hashlib.sha256(b"12345").hexdigest()  # no E.164: the text, hashed
    unmatched = query(masked.warehouse, "select * from audit.unmatched_records order by record_id")
    assert {r["given_email"] for r in unmatched} == {
        hashlib.sha256(b"stranger.danger@example.com").hexdigest(),
        hashlib.sha256(b"nobody.known@example.com").hexdigest()}
    records = {r["reason"]: json.loads(r["record"]) for r in query(masked.warehouse, "select * from ops.quarantined_rows")}
    ticket = records["unknown_value:status"]
    assert ticket["requester"]["email"] == hashlib.sha256(b"stranger.danger@example.com").hexdigest()
    assert ticket["requester"]["phone"] == hashlib.sha256(b"+8613700137001").hexdigest()
    assert ticket["requester"]["name"] == "S***" and ticket["ticket_id"] == "T-005"
    assert records["bad_timestamp:updated_at"]["name"] == "Q***"
    assert records["out_of_range:nps"]["email"] == hashlib.sha256(b"carol.wang@example.com").hexdigest()
    # joinable: the hashed e-mail of a customer is the hash of a record that gave it in other case
    assert rows["CU-002"]["email"] == hashlib.sha256(b"bob.li@example.com").hexdigest()
    info = query(masked.warehouse, "select pii from ops.publish_info")
    assert info == [{"pii": "masked"}]


def test_masking_changes_no_metric(clear, masked):
    personal = pii.model_pii(ROOT / "dbt" / "target" / "manifest.json", PUBLISHED_SCHEMAS)
    clear_tables, masked_tables = clear.days[1].main, masked.day2.main
    compared = [t for t in clear_tables if t.split(".")[0] in PUBLISHED_SCHEMAS]
    assert {"marts.customer_360", "marts.kpi_monthly", "audit.unmatched_records"} <= set(compared)
    for table in compared:
        columns, rows = clear_tables[table]
        assert masked_tables[table][0] == columns, table
        keep = [i for i, c in enumerate(columns) if c not in personal.get(tuple(table.split(".")), {})]
        project = lambda rs: sorted((tuple(r[i] for i in keep) for r in rs), key=repr)  # noqa: E731
        assert project(masked_tables[table][1]) == project(rows), table


def test_rep_files_carry_clear_contact_data_whatever_the_pii_setting(clear, masked):
    assert masked.day2.fingerprint == clear.days[1].fingerprint
    assert column_rows(masked.day2.files["R2"], "marts.customer_360", "email") == [
        "carol.wang@example.com", "david.chen@example.com", "erin.liu@example.com"]


def test_every_published_column_named_like_personal_data_is_marked_pii_in_dbt(clear):
    """A new email/phone/name column of a published model must carry `meta: {pii: true}`, or the
    masking would not know it."""
    marked = pii.model_pii(ROOT / "dbt" / "target" / "manifest.json", PUBLISHED_SCHEMAS)
    assert marked[("marts", "customer_360")] == {"name": "name", "email": "email", "phone": "phone"}
    assert marked[("audit", "unmatched_records")] == {"given_email": "email", "given_phone": "phone"}
    text_columns = query(clear.warehouse, "select schema_name, table_name, column_name from duckdb_columns() "
                         "where data_type = 'VARCHAR' and list_contains(?, schema_name)", [list(PUBLISHED_SCHEMAS)])
    assert len(text_columns) > 20
    unmarked = [
        f"{c['schema_name']}.{c['table_name']}.{c['column_name']}" for c in text_columns
        if pii.kind_from_name(c["column_name"]) != "text"
        and c["column_name"] not in marked.get((c["schema_name"], c["table_name"]), {})
    ]
    assert unmarked == []


# --- without a refresh ------------------------------------------------------------------------------

def test_only_temp_rep_files_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    left_by_dead = [tmp_path / f".R1.duckdb.{dead.pid}.1.publishing", tmp_path / f".R1.duckdb.{dead.pid}.1.publishing.wal",
                    tmp_path / f".a.b.duckdb.{dead.pid}.2.publishing"]
    scratch = tmp_path / f".scratch.{dead.pid}.3.tmp"
    in_progress = tmp_path / f".R2.duckdb.{os.getpid()}.4.publishing"
    kept = [tmp_path / "R1.duckdb", in_progress]
    for path in left_by_dead + kept:
        path.write_bytes(b"x")
    scratch.mkdir()
    (scratch / "spill.tmp").write_bytes(b"x")
    assert sorted(remove_stale_rep_temp_files(tmp_path)) == sorted(left_by_dead + [scratch])
    assert sorted(tmp_path.iterdir()) == sorted(kept)


@pytest.mark.parametrize("record, expected", [
    ({"ticket_id": "T", "requester": {"name": "Ann Lee", "email": " Ann@X.com ", "phone": None}},
     {"ticket_id": "T", "requester": {"name": "A***", "email": hashlib.sha256(b"ann@x.com").hexdigest(),
                                      "phone": None}}),
    ({"ticket_id": "T", "requester": "Ann <ann@x.com>"},
     {"ticket_id": "T", "requester": hashlib.sha256(b"Ann <ann@x.com>").hexdigest()}),
    ({"ticket_id": "T", "requester": {"phone": 12345}},
     {"ticket_id": "T", "requester": {"phone": hashlib.sha256(b"12345").hexdigest()}}),
    (["ann@x.com"], hashlib.sha256(b'["ann@x.com"]').hexdigest()),
])
def test_a_ticket_record_is_masked_whatever_its_shape(record, expected):
    con = duckdb.connect()
    pii.install(con, "CN")
    text = json.dumps(record)
    masked = con.execute(f"select {pii.mask_source_record('r', 'e')} from (select ? as r, 'tickets' as e)",
                         [text]).fetchone()[0]
    con.close()
    assert (json.loads(masked) if masked.startswith(("{", "[")) else masked) == expected


def test_publish_masks_every_personal_column_and_leaves_no_macro_in_the_file(tmp_path):
    """publish() on a hand-made working file: model columns marked pii, the quarantined records and
    the snippet of a rejected line are masked; a declared column that is missing stops the publish."""
    from dagster_project.defs.publish.mart import PublishError, PublishInfo, publish
    from dagster_project.settings import Settings

    settings = Settings(source_dir=tmp_path, warehouse=tmp_path / "c360.duckdb", pii="masked")
    con = duckdb.connect(str(settings.work_db))
    for schema in ("marts", "ops", "intermediate", "raw_identity"):
        con.execute(f"create schema {schema}")
    con.execute("create table intermediate.int_as_of_date_resolved as select date '2024-06-30' as as_of_date")
    con.execute("create table raw_identity.phone_numbers as select '138 0013 8001' as phone_raw, "
                "'CN' as default_region, '+8613800138001' as phone_e164")
    con.execute("create table marts.customer_360 as select 'C1' as customer_id, 'Ann Lee' as name, "
                "' Ann@X.com ' as email, '138 0013 8001' as phone, 12.5 as net_revenue_12m")
    con.execute("create table ops.rejected_files as select 'tickets_2024-06-01.jsonl' as file_name, "
                "'truncated or malformed JSON at line 1: ''{\"requester\": {\"email\": \"ann@x.com''' as reason")
    con.execute("""create table ops.quarantined_rows as select 'sales' as system, 'customers' as entity,
                   '{"customer_id": "C9", "name": "Bo Wu", "email": "bo@x.com", "phone": null}' as record""")
    con.close()
    personal = {("marts", "customer_360"): {"name": "name", "email": "email", "phone": "phone"}}
    publish(settings, [("marts", "customer_360")], PublishInfo("run-1", "duckdb", "masked"), personal)
    [row] = query(settings.warehouse, "select * from marts.customer_360")
    assert row == {"customer_id": "C1", "name": "A***", "email": hashlib.sha256(b"ann@x.com").hexdigest(),
                   "phone": hashlib.sha256(b"+8613800138001").hexdigest(), "net_revenue_12m": 12.5}
    [rejected] = query(settings.warehouse, "select reason from ops.rejected_files")
    assert rejected["reason"] == "truncated or malformed JSON at line 1: <record text masked, C360_PII=masked>"
    [quarantined] = query(settings.warehouse, "select record from ops.quarantined_rows")
    assert json.loads(quarantined["record"]) == {"customer_id": "C9", "name": "B***", "phone": None,
                                                 "email": hashlib.sha256(b"bo@x.com").hexdigest()}
    assert query(settings.warehouse, "select count(*) as n from duckdb_functions() where function_name like "
                                     "'c360_pii_%'") == [{"n": 0}]
    assert query(settings.warehouse, "select pii from ops.publish_info") == [{"pii": "masked"}]

    before = file_identity(settings.warehouse)
    with pytest.raises(PublishError, match="declared but not in the table: birthday"):
        publish(settings, [("marts", "customer_360")], PublishInfo("run-2", "duckdb", "masked"),
                {("marts", "customer_360"): {"birthday": "text"}})
    assert file_identity(settings.warehouse) == before


def test_the_rep_marts_asset_follows_the_published_mart_in_the_daily_refresh_job():
    import dagster as dg

    from dagster_project.defs import build_definitions
    from dagster_project.settings import load_settings

    defs = build_definitions(load_settings())
    graph = defs.resolve_job_def("daily_refresh").asset_layer.asset_graph
    rep_marts = dg.AssetKey(["warehouse", "rep_marts"])
    assert rep_marts in graph.get_all_asset_keys()
    spec = {s.key: s for s in defs.resolve_all_asset_specs()}[rep_marts]
    assert spec.group_name == "publish"
    assert {dep.asset_key for dep in spec.deps} == {dg.AssetKey(["warehouse", "published_mart"])}
