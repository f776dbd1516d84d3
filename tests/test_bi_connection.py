"""A BI tool's view of the published mart, through SQLAlchemy and duckdb-engine as Superset and most
Python BI tools open it (README, "Connect a BI tool"): read-only, the inspector lists the mart's
tables and columns with their descriptions, reads never fail while a refresh publishes, and the
README's recipe (NullPool) makes one long-lived engine see the new mart after a refresh.

One copy of the demo sources, refreshed twice: the second refresh adds a customer, so the mart
changes while a reader loops over the engine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from .conftest import MART_TABLES, ROOT, query, run_refresh, start_refresh
from .sources import customer, write_csv

DEMO = ROOT / "seeds" / "demo"
NEW_CUSTOMER = "CBI0001"
# A BI process with SQLAlchemy's default pool: reads the publishing run, waits for a line, reads again.
POOLED_READER = """
import sys
from sqlalchemy import create_engine, text
engine = create_engine(f"duckdb:///{sys.argv[1]}", connect_args={"read_only": True})
def run_id():
    with engine.connect() as con:
        return con.execute(text("select run_id from ops.publish_info")).scalar_one()
print(run_id(), flush=True)
sys.stdin.readline()
print(run_id(), flush=True)
"""


def recipe_engine(warehouse: Path):
    """The README's recipe: read-only, and NullPool, so every checkout opens the file anew and no
    connection is left open between queries (DuckDB serves a process the file it already holds)."""
    return create_engine(f"duckdb:///{warehouse}", connect_args={"read_only": True}, poolclass=NullPool)


def read_state(engine) -> tuple[str, int]:
    """(run that published the file, customers in the mart), on one connection of the engine."""
    with engine.connect() as con:
        run_id = con.execute(text("select run_id from ops.publish_info")).scalar_one()
        customers = con.execute(text("select count(*) from marts.customer_360")).scalar_one()
    return run_id, customers


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    root = tmp_path_factory.mktemp("bi")
    sources = root / "sources"
    shutil.copytree(DEMO, sources)
    warehouse = root / "w" / "c360.duckdb"
    result = run_refresh(sources, warehouse)
    assert result.returncode == 0, result.output
    return SimpleNamespace(sources=sources, warehouse=warehouse)


def test_the_inspector_lists_the_mart_tables_and_their_described_columns(area):
    engine = recipe_engine(area.warehouse)
    try:
        inspector = inspect(engine)
        assert set(inspector.get_table_names(schema="marts")) == MART_TABLES
        for table in MART_TABLES:
            columns = inspector.get_columns(table, schema="marts")
            stored = [r["column_name"] for r in query(
                area.warehouse, "select column_name from duckdb_columns() where schema_name = 'marts' "
                "and table_name = ? order by column_index", [table])]
            assert [c["name"] for c in columns] == stored
            undescribed = [c["name"] for c in columns if not (c.get("comment") or "").strip()]
            assert undescribed == [], f"marts.{table}: columns without a description"
            assert (inspector.get_table_comment(table, schema="marts")["text"] or "").strip(), table
        # the audit tables are published with their descriptions too
        assert (inspector.get_table_comment("unmatched_records", schema="audit")["text"] or "").strip()
        comment = {c["name"]: c["comment"] for c in inspector.get_columns("customer_360", schema="marts")}
        assert comment["net_revenue_12m"].startswith("Sum of line revenue of purchases in the window")
    finally:
        engine.dispose()


def test_the_engine_is_read_only(area):
    engine = recipe_engine(area.warehouse)
    try:
        with engine.connect() as con, pytest.raises(Exception, match="read-only"):
            con.execute(text("create table marts.scratch (x integer)"))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def second_refresh(area):
    """A refresh that adds one customer, while a long-lived engine (the README's recipe) reads and
    inspects the mart in a loop; the loop ends with a read begun after the refresh ended."""
    engine = recipe_engine(area.warehouse)
    before = read_state(engine)
    write_csv(area.sources, "customers", "2026-07-01", [
        customer(NEW_CUSTOMER, updated_at="2026-07-01T08:00:00Z", email="bi.reader@example.com",
                 created_at="2026-07-01T08:00:00Z")])
    finished = threading.Event()
    loop = SimpleNamespace(reads=0, errors=[], seen=[])

    def read_in_a_loop() -> None:
        while True:
            last = finished.is_set()
            try:
                state = read_state(engine)
                if not inspect(engine).get_columns("customer_360", schema="marts"):
                    loop.errors.append("no columns listed")
                loop.seen.append(state)
                loop.reads += 1
            except Exception as exc:  # every failure is the finding
                loop.errors.append(f"{type(exc).__name__}: {exc}")
            if last:
                return
            time.sleep(0.2)

    pooled = subprocess.Popen([sys.executable, "-c", POOLED_READER, str(area.warehouse)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pooled_runs = [pooled.stdout.readline().strip()]
    reader = threading.Thread(target=read_in_a_loop, daemon=True)
    reader.start()
    proc = start_refresh(area.sources, area.warehouse)
    output = proc.communicate(timeout=900)[0]
    finished.set()
    reader.join(timeout=120)
    pooled_runs.append(pooled.communicate("again\n", timeout=120)[0].strip())
    after = read_state(engine)
    engine.dispose()
    assert proc.returncode == 0, output
    return SimpleNamespace(before=before, after=after, loop=loop, pooled=pooled_runs, published=query(
        area.warehouse, "select run_id, (select count(*) from marts.customer_360) as customers from ops.publish_info"
    )[0])


def test_reads_through_the_engine_never_fail_during_a_refresh(second_refresh):
    loop = second_refresh.loop
    assert loop.errors == []
    assert loop.reads >= 20
    # every read saw the old mart or the new one, whole
    assert set(loop.seen) <= {second_refresh.before, second_refresh.after}


def test_the_same_long_lived_engine_sees_the_new_mart_after_the_refresh(second_refresh):
    old_run, old_customers = second_refresh.before
    new_run, new_customers = second_refresh.after
    assert new_run != old_run
    assert (new_run, new_customers) == (second_refresh.published["run_id"], second_refresh.published["customers"])
    assert new_customers == old_customers + 1
    # the loop read across the swap: the old mart while the refresh ran, the new one at its end
    assert second_refresh.loop.seen[0] == second_refresh.before
    assert second_refresh.loop.seen[-1] == second_refresh.after


def test_a_new_customer_is_visible_with_its_description(second_refresh, area):
    engine = recipe_engine(area.warehouse)
    try:
        with engine.connect() as con:
            assert con.execute(text("select count(*) from marts.customer_360 where customer_id = :c"),
                               {"c": NEW_CUSTOMER}).scalar_one() == 1
        assert all((c.get("comment") or "").strip()
                   for c in inspect(engine).get_columns("customer_360", schema="marts"))
    finally:
        engine.dispose()


def test_without_the_recipe_a_pooled_engine_keeps_serving_the_old_mart(second_refresh):
    """Why the recipe: SQLAlchemy's default pool keeps its connection open, and DuckDB serves a
    process the file it holds, so that engine still reads the replaced mart after the refresh."""
    assert second_refresh.pooled == [second_refresh.before[0], second_refresh.before[0]]
