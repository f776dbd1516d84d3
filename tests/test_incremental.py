"""Incremental refreshes, day by day, publish the same mart as one full refresh over the same days.

A small generated set (daily extracts) is fed to one warehouse in batches: two refreshes, then
the last two days through `c360 backfill` (one refresh per day, each seeing only the extracts
up to its day). Another warehouse gets all files at once with `c360 refresh --full-refresh`.
Every published table of `marts` and `audit` must be equal row for row. A marker left in the
working file before the backfill proves those refreshes merged into the kept staging tables
instead of rebuilding them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from .conftest import C360, ROOT, refresh_env

AS_OF = "2026-06-30"
INCREMENTAL_BASE_MODELS = (
    "base_sales__orders_latest",
    "base_sales__order_lines_latest",
    "base_service__tickets_latest",
    "base_survey__responses_first_received",
)


def _has_data(path: Path) -> bool:
    """A CSV with a data row, or a non-empty JSON Lines file (header-only extracts are left out)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig") as handle:
            return sum(1 for _ in zip(range(2), handle)) > 1
    return path.stat().st_size > 0


def _extracts_by_date(root: Path) -> dict[str, list[Path]]:
    by_date: dict[str, list[Path]] = {}
    for path in sorted(root.glob("*/*_*.*")):
        if _has_data(path):
            by_date.setdefault(path.stem.rsplit("_", 1)[1], []).append(path)
    return by_date


def _copy(files: list[Path], source_dir: Path) -> None:
    for path in files:
        (source_dir / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, source_dir / path.parent.name / path.name)


def _published_tables(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'audit') order by 1"
        ).fetchall()
    finally:
        con.close()
    return [name for (name,) in rows]


def _differences(left: Path, right: Path, table: str) -> tuple[int, int, int]:
    """(rows, rows only in left, rows only in right), comparing whole rows with duplicates."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        rows = con.execute(f"select count(*) from l.{table}").fetchone()[0]
        only_left = con.execute(
            f"select count(*) from (select * from l.{table} except all select * from r.{table})"
        ).fetchone()[0]
        only_right = con.execute(
            f"select count(*) from (select * from r.{table} except all select * from l.{table})"
        ).fetchone()[0]
    finally:
        con.close()
    return rows, only_left, only_right


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    generated = root / "generated"
    subprocess.run(
        [str(C360), "generate", "--customers", "150", "--days", "60", "--seed", "11",
         "--out", str(generated), "--end-date", AS_OF, "--extract-every-days", "1"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    by_date = _extracts_by_date(generated)
    dates = sorted(by_date)
    assert dates[-1] == AS_OF
    # Two refreshes (most of the history, then the rest but two days), then the last two days
    # through `c360 backfill`, which refreshes as of each day seeing only extracts up to it.
    batches = [dates[:40], dates[40:-2], dates[-2:]]

    incremental_sources, incremental = root / "inc_src", root / "inc" / "c360.duckdb"
    incremental_sources.mkdir()
    for batch in batches[:2]:
        _copy([path for day in batch for path in by_date[day]], incremental_sources)
        # Only part of the history is visible yet, so AS_OF lies after its newest date: allowed here,
        # these refreshes exist to fill the kept staging state, their mart is replaced later.
        result = _c360(["refresh", "--allow-future-as-of"], incremental_sources, incremental, as_of=AS_OF)
        assert result.returncode == 0, result.stdout + result.stderr
    _mark_kept_rows(incremental)
    _copy([path for day in batches[2] for path in by_date[day]], incremental_sources)
    backfill = _c360(["backfill", "--from", batches[2][0], "--to", batches[2][-1]],
                     incremental_sources, incremental)
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr

    full_sources, full = root / "full_src", root / "full" / "c360.duckdb"
    full_sources.mkdir()
    _copy([path for day in dates for path in by_date[day]], full_sources)
    result = _c360(["refresh", "--full-refresh"], full_sources, full, as_of=AS_OF)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"incremental": incremental, "full": full, "generated": generated, "batches": batches,
            "backfill_output": backfill.stderr}


def _c360(arguments: list[str], source_dir: Path, warehouse: Path, **settings: str):
    env = refresh_env(source_dir, warehouse, **settings)
    return subprocess.run([str(C360), *arguments], cwd=ROOT, env=env, capture_output=True, text=True)


def _work_file(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".work.duckdb")


def _mark_kept_rows(warehouse: Path) -> None:
    """Set the lineage line of each base model's oldest kept row to -1 (no mart reads it)."""
    con = duckdb.connect(str(_work_file(warehouse)))
    try:
        for model in INCREMENTAL_BASE_MODELS:
            con.execute(
                f"update staging.{model} set _line = -1 "
                f"where _file_id = (select min(_file_id) from staging.{model})"
            )
    finally:
        con.close()


def test_the_last_refresh_merged_into_the_kept_staging_tables(refreshed):
    con = duckdb.connect(str(_work_file(refreshed["incremental"])), read_only=True)
    try:
        for model in INCREMENTAL_BASE_MODELS:
            marked = con.execute(f"select count(*) from staging.{model} where _line = -1").fetchone()[0]
            assert marked > 0, f"{model} was rebuilt, not merged incrementally"
    finally:
        con.close()


def test_every_refresh_that_passed_validated_the_kept_staging_rows_through_its_newest_file(refreshed):
    """The watermark that scopes the key tests of the next incremental refresh to new rows
    (dbt/macros/incremental_tests.sql) stands at the newest file of each base model whose scoped
    tests passed, and below it for one whose scoped tests found rows (an open finding)."""
    for warehouse in (refreshed["incremental"], refreshed["full"]):
        con = duckdb.connect(str(_work_file(warehouse)), read_only=True)
        try:
            validated = dict(con.execute(
                "select base_model, validated_through_file_id "
                "from staging.incremental_tests_validated_file_ids"
            ).fetchall())
            newest = {
                model: con.execute(f"select max(_file_id) from staging.{model}").fetchone()[0]
                for model in INCREMENTAL_BASE_MODELS
            }
            # a base model whose scoped (key and relationship) tests warn keeps its watermark: the
            # rows are tested again until the data is fixed
            open_findings = {model for (model,) in con.execute(
                "select tested_model from ops.data_quality_findings "
                "where check_name like 'relationships_%' or check_name like 'unique_%'").fetchall()}
        finally:
            con.close()
        held = {model for model in INCREMENTAL_BASE_MODELS if _staging_model(model) in open_findings}
        assert {m: v for m, v in validated.items() if m not in held} == {
            m: v for m, v in newest.items() if m not in held}, warehouse
        for model in held:
            assert validated.get(model, -1) < newest[model], (warehouse, model)


def _staging_model(base_model: str) -> str:
    """base_sales__order_lines_latest -> stg_sales__order_lines: the model its scoped tests test."""
    name = base_model.removeprefix("base_")
    for suffix in ("_latest", "_first_received"):
        name = name.removesuffix(suffix)
    return "stg_" + name


def test_full_refresh_flag_passes_through_to_dbt_build(tmp_path):
    from dagster_project.defs.dbt.assets import dbt_build_args
    from dagster_project.defs.resources import C360Resource
    from dagster_project.settings import Settings

    settings = Settings(source_dir=tmp_path, warehouse=tmp_path / "c360.duckdb", as_of="2025-01-31")
    daily = dbt_build_args(C360Resource.from_settings(settings))
    assert daily[:5] == ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "buildable"]
    assert daily[5] == "--vars" and json.loads(daily[6]) == settings.dbt_vars()
    assert json.loads(daily[6])["as_of"] == "2025-01-31"
    assert "--full-refresh" not in daily
    full = dbt_build_args(C360Resource.from_settings(settings, full_refresh=True))
    assert full == [*daily, "--full-refresh"]


def test_day_by_day_refreshes_publish_the_same_mart_as_one_full_refresh(refreshed):
    incremental, full = refreshed["incremental"], refreshed["full"]
    tables = _published_tables(full)
    assert "marts.customer_360" in tables
    assert _published_tables(incremental) == tables
    for table in tables:
        rows, only_incremental, only_full = _differences(incremental, full, table)
        assert (only_incremental, only_full) == (0, 0), f"{table}: {rows} rows, differs"
    customers = duckdb.connect(str(full), read_only=True)
    try:
        buyers = customers.execute(
            "select count(*) from marts.customer_360 where purchases_lifetime > 0"
        ).fetchone()[0]
    finally:
        customers.close()
    assert buyers > 0


def test_the_backfill_refreshed_as_of_each_day(refreshed):
    first, last = refreshed["batches"][2][0], refreshed["batches"][2][-1]
    assert f"backfill {first}" in refreshed["backfill_output"]
    assert f"published as of {last}" in refreshed["backfill_output"]


def test_the_set_has_an_order_before_its_customer_across_refreshes(refreshed):
    """The comparison covers the hard cases: an order whose customer arrives in a later refresh,
    and orders re-exported with a newer state."""
    sales = refreshed["generated"] / "sales"
    batch_of = {day: number for number, batch in enumerate(refreshed["batches"]) for day in batch}
    con = duckdb.connect()
    try:
        for entity in ("orders", "customers"):
            con.execute(
                f"create view {entity} as select *, regexp_extract(filename, '(\\d{{4}}-\\d{{2}}-\\d{{2}})') "
                f"as extract_date from read_csv('{sales}/{entity}_*.csv', all_varchar = true, filename = true)"
            )
        late = con.execute(
            """
            select orders.extract_date, first_seen.first_date
            from orders
            inner join (
                select customers.customer_id, min(customers.extract_date) as first_date
                from customers group by 1
            ) as first_seen on orders.customer_id = first_seen.customer_id
            where orders.extract_date < first_seen.first_date
            """
        ).fetchall()
        re_exported = con.execute(
            "select count(*) from (select order_id from orders group by 1 having count(*) > 1)"
        ).fetchone()[0]
    finally:
        con.close()
    assert any(batch_of.get(ordered) != batch_of.get(arrived) for ordered, arrived in late), late
    assert re_exported > 0
