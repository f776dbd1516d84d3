"""Safe publishing, crash safety and idempotence, through real `c360 refresh` processes.

One source folder, refreshed into a few warehouses (a refresh takes ~45 s, so they are shared):
  W1: day one -> mart M1; day two, with BI readers running -> M2; day two again -> M2 (idempotent).
  W2: a copy of W1 at M1 (both files), refreshed on day two and killed with SIGKILL during ingest,
      during the dbt build and during publishing; then refreshed to the end -> M2, exactly.
  W3, W4: copies of W1 at M2, refreshed with a rejected file / with a raw row that fails a blocking
      dbt test: neither publishes, M2 stays.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.ingest.contract import ENTITIES
from dagster_project.settings import Settings
from dagster_project.defs.publish.mart import PublishError, PublishInfo, publish
from dagster_project.warehouse import refresh_lock, remove_stale_publish_files

from .conftest import ROOT, run_refresh, start_refresh
from .mart_probe import COMPARED_SCHEMAS, published_fingerprint
from .sources import customer, line, order, product, response, ticket, write_csv, write_tickets

AS_OF = "2024-06-30"
# the extracts end before AS_OF: a mart as of a later date is asked for on purpose
FUTURE_AS_OF = "--allow-future-as-of"
HISTORY_DAYS = 80  # daily order extracts in day two: ingestion logs its progress after 50 of them
WAREHOUSE_FILES = {"c360.duckdb", "c360.work.duckdb", "c360.refresh.lock", "dashboard.html", "logs",  # logs: one file per run
                   "reps", "c360.metricflow"}  # the rep files; MetricFlow's project folder (c360 metrics)


# --- source data ----------------------------------------------------------------------------------

def write_day_one(root: Path) -> None:
    day = "2024-05-31"
    write_csv(root, "customers", day, [
        customer(f"C{n}", email=f"c{n}@example.com", phone=f"+861380013800{n}", tier="gold" if n == 2 else "standard")
        for n in range(1, 7)
    ])
    write_csv(root, "products", day, [product("P1", "Coffee", unit_cost="4.00"), product("P2", "Tea", unit_cost="2.50")])
    write_csv(root, "orders", day, [
        order("O1", "C1", "2024-05-01T10:00:00Z"),
        order("O2", "C2", "2024-05-02T10:00:00Z"),
        order("O3", "C3", "2024-05-03T10:00:00Z", status="cancelled"),
    ])
    write_csv(root, "order_lines", day, [
        line("O1", 1, "P1", 2, "10.00", "1.00"),
        line("O2", 1, "P2", 1, "8.00"),
        line("O3", 1, "P1", 1, "10.00"),
    ])
    write_tickets(root, day, [
        ticket("T1", "2024-05-10T08:00:00Z", customer_id="C1"),
        ticket("T2", "2024-05-11T08:00:00Z", email="C2@Example.com "),
        ticket("T3", "2024-05-12T08:00:00Z", email="nobody@example.com"),
    ])
    write_csv(root, "responses", day, [
        response("R1", "2024-05-20T12:00:00Z", customer_id="C1", nps="9", csat="5"),
        response("R2", "2024-05-21T12:00:00Z", email="c3@example.com", nps="4", csat="2"),
    ])


def write_day_two(root: Path) -> None:
    """A late-delivered history of daily order extracts, and the next day's changes."""
    first = date(2024, 1, 1)
    for offset in range(HISTORY_DAYS):
        day = (first + timedelta(days=offset)).isoformat()
        write_csv(root, "orders", day, [order(f"H{offset}", f"C{offset % 6 + 1}", f"{day}T10:00:00Z")])
        write_csv(root, "order_lines", day, [line(f"H{offset}", 1, "P2", 1 + offset % 3, "8.00")])
    day = "2024-06-01"
    write_csv(root, "customers", day, [
        customer("C1", updated_at="2024-06-01T00:00:00Z", tier="gold", email="c1@example.com"),
        customer("C7", updated_at="2024-06-01T00:00:00Z", email="c7@example.com"),
    ])
    write_csv(root, "orders", day, [
        order("O3", "C3", "2024-05-03T10:00:00Z", status="completed", updated_at="2024-06-01T09:00:00Z"),
        order("O4", "C7", "2024-06-01T11:00:00Z"),
    ])
    # a discount above the line's gross price: a warning test, not a blocking one
    write_csv(root, "order_lines", day, [line("O4", 1, "P1", 1, "10.00", "12.00")])
    write_tickets(root, day, [ticket("T4", "2024-06-01T08:00:00Z", customer_id="C7")])
    write_csv(root, "responses", day, [
        response("R3", "2024-06-01T12:00:00Z", customer_id="C7", nps="10", csat="5"),
        response("R4", "2024-06-01T12:00:00Z", customer_id="C7", nps="11"),  # quarantined
        response("R1", "2024-06-01T12:00:00Z", customer_id="C1", nps="0"),  # a duplicate
    ])


# --- helpers --------------------------------------------------------------------------------------

def mart_tables(warehouse: Path) -> dict[str, tuple[list, list]]:
    """Every mart and audit table of the published file: (column names and types, all rows sorted)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in (select unnest(?))",
            [list(COMPARED_SCHEMAS)],
        ).fetchall()
        result = {}
        for schema, table in tables:
            cursor = con.execute(f'select * from "{schema}"."{table}" order by all')
            columns = [(d[0], str(d[1])) for d in cursor.description]
            result[f"{schema}.{table}"] = (columns, cursor.fetchall())
        return result
    finally:
        con.close()


def raw_layer(warehouse: Path) -> dict[str, list]:
    """Every raw row of the working file (without load ids), and the files logged as loaded."""
    con = duckdb.connect(str(warehouse.with_name("c360.work.duckdb")), read_only=True)
    try:
        layer = {}
        for entity in ENTITIES:
            keys = ", ".join(f'"{k}"' for k in entity.key)
            layer[entity.raw_table] = con.execute(
                f"select _file, _line, {keys}, _quarantine_reason from {entity.raw_table} order by all"
            ).fetchall()
        layer["ops.loaded_files"] = con.execute(
            "select system, entity, file_name, sha256, rows_read, rows_quarantined from ops.loaded_files order by all"
        ).fetchall()
        return layer
    finally:
        con.close()


def copy_warehouse(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True)
    for path in source.parent.iterdir():
        if path.name != "c360.refresh.lock" and path.is_file():  # not logs/: each refresh writes its own
            shutil.copy2(path, target.parent / path.name)
    return target


def file_identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def gone(pid: int) -> bool:
    """Dead, or a zombie nobody has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


class RunningRefresh:
    """A `c360 refresh -v` process whose output lines are collected as they come (-v: Dagster's
    step lines and dbt's own lines are printed too, so a test can act at a given moment)."""

    def __init__(self, source_dir: Path, warehouse: Path):
        self.proc = start_refresh(source_dir, warehouse, FUTURE_AS_OF, "-v", as_of=AS_OF)
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for text in self.proc.stdout:
            with self._new_line:
                self.lines.append(text)
                self._new_line.notify_all()
        with self._new_line:
            self._new_line.notify_all()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 600) -> bool:
        """True once a line matches; False if the process ended first."""
        regex, seen, deadline = re.compile(pattern), 0, time.monotonic() + timeout
        with self._new_line:
            while True:
                for text in self.lines[seen:]:
                    if regex.search(text):
                        return True
                seen = len(self.lines)
                if not self._reader.is_alive() and self.proc.poll() is not None:
                    return False
                assert time.monotonic() < deadline, f"no line like {pattern!r}:\n{self.output[-3000:]}"
                self._new_line.wait(timeout=1)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join(timeout=30)

    def finish(self) -> int:
        code = self.proc.wait(timeout=900)
        self._reader.join(timeout=30)
        return code


def start_probe(mode: str, warehouse: Path, folder: Path) -> SimpleNamespace:
    folder.mkdir(parents=True, exist_ok=True)
    stop, result = folder / f"{mode}.stop", folder / f"{mode}.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.mart_probe", mode, str(warehouse), str(stop), str(result)],
                            cwd=ROOT)
    return SimpleNamespace(proc=proc, stop=stop, result=result, ready=stop.with_suffix(".ready"))


def stop_probe(probe: SimpleNamespace) -> dict:
    probe.stop.touch()
    assert probe.proc.wait(timeout=120) == 0
    return json.loads(probe.result.read_text())


# --- shared refreshes -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def area(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reliability")


@pytest.fixture(scope="module")
def day_one(area):
    sources = area / "sources"
    write_day_one(sources)
    w1 = area / "w1" / "c360.duckdb"
    result = run_refresh(sources, w1, FUTURE_AS_OF, as_of=AS_OF)
    assert result.returncode == 0, result.output
    before_day_two = copy_warehouse(w1, area / "w2" / "c360.duckdb")
    return SimpleNamespace(sources=sources, w1=w1, w2=before_day_two, fingerprint=published_fingerprint(w1),
                           tables=mart_tables(w1))


@pytest.fixture(scope="module")
def day_two(day_one, area):
    """Day two's refresh of W1, while one reader loops over connections and another holds one open."""
    write_day_two(day_one.sources)
    holder = start_probe("hold", day_one.w1, area / "probes")
    deadline = time.monotonic() + 120
    while not holder.ready.exists():
        assert holder.proc.poll() is None and time.monotonic() < deadline, "the holding reader did not start"
        time.sleep(0.1)
    looper = start_probe("loop", day_one.w1, area / "probes")
    refresh = RunningRefresh(day_one.sources, day_one.w1)
    code = refresh.finish()
    time.sleep(2)  # the looping reader goes on reading the new mart for a while
    loop, hold = stop_probe(looper), stop_probe(holder)
    assert code == 0, refresh.output
    return SimpleNamespace(output=refresh.output, loop=loop, hold=hold,
                           fingerprint=published_fingerprint(day_one.w1), tables=mart_tables(day_one.w1),
                           raw=raw_layer(day_one.w1))


@pytest.fixture(scope="module")
def day_two_again(day_one, day_two):
    result = run_refresh(day_one.sources, day_one.w1, FUTURE_AS_OF, as_of=AS_OF)
    assert result.returncode == 0, result.output
    return SimpleNamespace(output=result.output, tables=mart_tables(day_one.w1))


# --- tests ----------------------------------------------------------------------------------------

def test_a_reader_looping_during_a_refresh_never_fails_and_always_sees_a_whole_mart(day_one, day_two):
    assert day_two.fingerprint != day_one.fingerprint  # day two changed the mart
    assert day_two.loop["errors"] == []
    assert day_two.loop["reads"] >= 50
    seen = set(day_two.loop["seen"])
    assert seen <= {day_one.fingerprint, day_two.fingerprint}  # the old mart or the new one, whole
    assert seen == {day_one.fingerprint, day_two.fingerprint}  # it read both, so it read across the swap


def test_a_reader_holding_the_published_file_open_neither_blocks_the_refresh_nor_is_disturbed(day_one, day_two):
    # the refresh published (day_two asserts exit 0) while this connection stayed open
    assert day_two.hold["errors"] == []
    assert day_two.hold["reads"] >= 1
    assert day_two.hold["before"] == day_two.hold["after"] == day_one.fingerprint


def test_warning_checks_are_reported_but_do_not_block(day_two):
    assert "published" in day_two.output
    assert re.search(r"warning: check staging/stg_sales__order_lines:order_line_discount_at_most_gross_price "
                     r"did not pass: 1 failing row", day_two.output)
    assert re.search(r"warning: check sales/orders:newest_extract_is_fresh did not pass: newest sales/orders "
                     r"extract is from 2024-06-01", day_two.output)


def test_every_refresh_checks_raw_rows_equal_accepted_plus_quarantined(day_two):
    run_id = re.search(r"published \S+ as of \S+ in [\d.]+ s \(run ([0-9a-f-]+)\)", day_two.output)[1]
    evaluations = {
        event.dagster_event.event_specific_data.asset_key.to_user_string(): event.dagster_event.event_specific_data
        for event in dg.DagsterInstance.get().all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        if event.dagster_event.event_specific_data.check_name == "raw_rows_equal_accepted_plus_quarantined"
    }
    assert set(evaluations) == {"/".join(entity.asset_key) for entity in ENTITIES}
    for asset, evaluation in evaluations.items():
        counts = {name: value.value for name, value in evaluation.metadata.items()}
        assert evaluation.passed, asset
        assert counts["raw_rows"] == counts["accepted_rows"] + counts["quarantined_rows"], asset
    responses = {name: value.value for name, value in evaluations["survey/responses"].metadata.items()}
    assert (responses["raw_rows"], responses["quarantined_rows"]) == (5, 2)  # nps 11 and a duplicate


def test_a_refresh_run_twice_on_the_same_files_publishes_the_same_mart(day_two, day_two_again):
    assert "0 new file(s)" in day_two_again.output
    assert set(day_two_again.tables) >= {"marts.customer_360", "audit.unmatched_records"}
    for table, (columns, rows) in day_two.tables.items():
        assert day_two_again.tables[table][0] == columns, table
        assert day_two_again.tables[table][1] == rows, table
    assert set(day_two_again.tables) == set(day_two.tables)


def test_a_refresh_killed_at_any_moment_leaves_the_mart_intact_and_the_next_one_recovers(day_one, day_two):
    w2 = day_one.w2
    published = file_identity(w2)
    assert published_fingerprint(w2) == day_one.fingerprint

    # 1. during ingestion: some of day two's order line files are committed, the rest not
    refresh = RunningRefresh(day_one.sources, w2)
    assert refresh.wait_for(r"sales\.order_lines: 50/\d+ new file\(s\) done"), refresh.output
    refresh.kill()
    assert file_identity(w2) == published and published_fingerprint(w2) == day_one.fingerprint
    con = duckdb.connect(str(w2.with_name("c360.work.duckdb")), read_only=True)
    loaded, raw, read = con.execute(
        "select count(*), (select count(*) from raw_sales.order_lines), sum(rows_read) from ops.loaded_files "
        "where entity = 'order_lines'"
    ).fetchone()
    con.close()
    assert 50 <= loaded - 1 < HISTORY_DAYS + 1, "the kill was meant to land in the middle of ingestion"
    assert raw == read  # whole files only

    # 2. during the dbt build: the dbt child dies with the refresh, so it cannot hold the working file
    refresh = RunningRefresh(day_one.sources, w2)
    assert refresh.wait_for(r"START sql table model"), refresh.output
    dbt_children = children_of(refresh.proc.pid)
    assert dbt_children, "dbt runs as a child process"
    refresh.kill()
    deadline = time.monotonic() + 15
    while not all(gone(pid) for pid in dbt_children):
        assert time.monotonic() < deadline, "dbt outlived the refresh that started it"
        time.sleep(0.1)
    assert file_identity(w2) == published and published_fingerprint(w2) == day_one.fingerprint

    # 3. while publishing: killed as the copy is being written (or just after it was swapped in)
    refresh = RunningRefresh(day_one.sources, w2)
    assert refresh.wait_for(r'Started execution of step "warehouse__published_mart"'), refresh.output
    deadline = time.monotonic() + 10
    while not list(w2.parent.glob(".c360.duckdb.*")) and time.monotonic() < deadline:
        if refresh.proc.poll() is not None:
            break
        time.sleep(0.001)
    refresh.kill()
    assert published_fingerprint(w2) in {day_one.fingerprint, day_two.fingerprint}  # whole, old or new

    # the next refresh recovers by itself: no stale lock, no temp file, nothing loaded twice
    result = run_refresh(day_one.sources, w2, FUTURE_AS_OF, as_of=AS_OF)
    assert result.returncode == 0, result.output
    assert {p.name for p in w2.parent.iterdir()} <= WAREHOUSE_FILES
    assert len(re.findall(r"marked run \S+ as failed: its refresh process was killed", result.output)) >= 1
    assert not dg.DagsterInstance.get().get_runs(
        filters=dg.RunsFilter(job_name="daily_refresh", statuses=[dg.DagsterRunStatus.STARTED])
    )
    assert raw_layer(w2) == day_two.raw
    assert mart_tables(w2) == day_two.tables  # the same mart as the uninterrupted refresh


def test_a_rejected_file_fails_the_refresh_and_leaves_the_mart_unchanged(day_one, day_two, day_two_again, area):
    sources = area / "sources_with_a_bad_file"
    shutil.copytree(day_one.sources, sources)
    bad = sources / "service" / "tickets_2024-06-02.jsonl"
    bad.write_text('{"ticket_id": "T5", "created_at": "2024-06-02T08:00:00Z", "updated_at": "2024-06-02T0')
    w3 = copy_warehouse(day_one.w1, area / "w3" / "c360.duckdb")
    published = file_identity(w3)

    result = run_refresh(sources, w3, FUTURE_AS_OF, as_of=AS_OF)
    assert result.returncode != 0
    assert f"{bad}: truncated or malformed JSON at line 1" in result.output
    assert "NOT published" in result.output
    assert file_identity(w3) == published
    assert published_fingerprint(w3) == day_two.fingerprint


def test_a_failing_blocking_dbt_test_stops_publication(day_one, day_two, day_two_again, area):
    w4 = copy_warehouse(day_one.w1, area / "w4" / "c360.duckdb")
    published = file_identity(w4)
    # A row that slipped past the contract into the kept (incremental) staging state, as a bug in
    # the contract would let through, and the next day's orders: the accepted_values test on the
    # order status, which guards the kept rows too, is the gate. (With no new extract nothing is
    # built, so no test runs: build_inputs.py.)
    sources = area / "w4_sources"
    shutil.copytree(day_one.sources, sources)
    write_csv(sources, "orders", "2024-06-02", [order("O5", "C2", "2024-06-02T10:00:00Z")])
    con = duckdb.connect(str(w4.with_name("c360.work.duckdb")))
    changed = con.execute(
        "update staging.base_sales__orders_latest set status = 'on_hold' where order_id = 'O1'"
    ).fetchone()[0]
    assert changed == 1
    con.close()

    result = run_refresh(sources, w4, FUTURE_AS_OF, as_of=AS_OF)
    assert result.returncode == 1, result.output
    assert "NOT published" in result.output
    assert re.search(r"check staging/stg_sales__orders:accepted_values_stg_sales__orders_status\S* did not pass: "
                     r"1 failing row", result.output), result.output
    assert file_identity(w4) == published
    assert published_fingerprint(w4) == day_two.fingerprint
    assert {p.name for p in w4.parent.iterdir()} <= WAREHOUSE_FILES


# --- the same guarantees, checked without a refresh -------------------------------------------------

def _settings(folder: Path) -> Settings:
    return Settings(source_dir=folder, warehouse=folder / "c360.duckdb")


def test_publish_copies_the_models_and_ops_tables_only(tmp_path):
    settings = _settings(tmp_path)
    con = duckdb.connect(str(settings.work_db))
    for schema in ("marts", "audit", "ops", "staging", "intermediate"):
        con.execute(f"create schema {schema}")
    con.execute("create table intermediate.int_as_of_date_resolved as select date '2024-06-30' as as_of_date")
    con.execute("create table marts.customer_360 as select 'C1' as customer_id")
    con.execute("create table marts.customer_360__dbt_backup as select 'old' as customer_id")  # left by a kill
    con.execute("create table marts.retired_model as select 1 as x")  # a model deleted from the project
    con.execute("create table audit.unmatched_records as select 'T1' as record_id")
    con.execute("create table ops.loaded_files as select 'customers_2024-06-01.csv' as file_name")
    con.execute("create table ops.scratch as select 1 as x")
    con.execute("create view ops.quarantined_rows as select 'x' as reason")
    con.execute("create table staging.stg as select 1 as x")
    con.close()

    info = PublishInfo(run_id="run-1", engine="duckdb")
    published = publish(settings, [("audit", "unmatched_records"), ("marts", "customer_360")], info)
    counts = published.row_counts
    assert counts == {"audit.unmatched_records": 1, "marts.customer_360": 1, "ops.loaded_files": 1,
                      "ops.quarantined_rows": 1}
    assert published.as_of_date == date(2024, 6, 30)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    names = con.execute("select schema_name || '.' || table_name from duckdb_tables() order by 1").fetchall()
    as_of, run_id, engine, row_counts = con.execute(
        "select as_of_date, run_id, engine, row_counts from ops.publish_info").fetchone()
    con.close()
    assert [n for (n,) in names] == sorted([*counts, "ops.publish_info"])
    assert (as_of, run_id, engine, json.loads(row_counts)) == (date(2024, 6, 30), "run-1", "duckdb", counts)
    assert {p.name for p in tmp_path.iterdir()} == {"c360.duckdb", "c360.work.duckdb"}

    before = file_identity(settings.warehouse)
    with pytest.raises(PublishError, match="lacks model.*marts.gone"):
        publish(settings, [("marts", "customer_360"), ("marts", "gone")], info)
    assert file_identity(settings.warehouse) == before
    assert {p.name for p in tmp_path.iterdir()} == {"c360.duckdb", "c360.work.duckdb"}


def test_only_copies_left_by_dead_processes_are_removed(tmp_path):
    settings = _settings(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    left_by_dead = tmp_path / f".c360.duckdb.{dead.pid}.123.publishing"
    left_by_dead_wal = tmp_path / f".c360.duckdb.{dead.pid}.123.publishing.wal"
    in_progress = tmp_path / f".c360.duckdb.{os.getpid()}.456.publishing"
    for path in (left_by_dead, left_by_dead_wal, in_progress):
        path.write_bytes(b"partial")
    assert sorted(remove_stale_publish_files(settings)) == [left_by_dead, left_by_dead_wal]
    assert in_progress.exists()


def test_a_second_refresh_while_one_runs_exits_with_a_clear_message(tmp_path):
    settings = _settings(tmp_path)
    with refresh_lock(settings):
        result = run_refresh(tmp_path, settings.warehouse)
    assert result.returncode == 3
    assert "another refresh is running" in result.output
