"""Shared fixtures: real DuckDB files, real dbt, real Dagster runs; nothing mocked."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_project.settings import child_environment

ROOT = Path(__file__).resolve().parent.parent
C360 = Path(sys.executable).parent / "c360"
# The tables of the published marts schema (the last two: the semantic layer's calendar, and the
# forward-looking customer value).
MART_TABLES = {"customer_360", "retention_by_year", "cohort_retention", "kpi_monthly", "category_affinity",
               "customer_timeline", "metricflow_time_spine", "customer_value"}
SETTING_NAMES = ("C360_SOURCE_DIR", "C360_WAREHOUSE", "C360_AS_OF", "C360_TIMEZONE", "C360_PHONE_REGION",
                 "C360_FRESHNESS_DAYS", "C360_MEMORY_LIMIT", "C360_DBT_TARGET_PATH", "C360_ENGINE",
                 "C360_NPS_MIN_RESPONSES", "C360_PII", "C360_CLV_REFIT_DAYS", "C360_CLV_FIT_METHOD",
                 "C360_CLV_COST_PER_TICKET", "C360_CLV_REFERRAL_VALUE_PER_PROMOTER", "C360_CLV_DISCOUNT_RATE",
                 "C360_CLV_MIN_PURCHASERS", "C360_CLV_HOLDOUT_DAYS")


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory, testrun_uid):
    """Own DAGSTER_HOME (telemetry off), no C360_* setting of the caller's shell, and a parsed dbt
    manifest, once per session."""
    from dagster_project.defs.dbt.project import manifest_is_current, prepare_manifest
    from dagster_project.instance import ensure_dagster_home
    from dagster_project.settings import load_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))
        for name in SETTING_NAMES:
            patch.delenv(name, raising=False)
        settings = load_settings()
        ensure_dagster_home(settings)
        # The suite runs in two pytest-xdist workers (pyproject.toml), which share dbt/target:
        # the first parses, the other waits for it and finds the manifest current.
        settings.dbt_target_path.mkdir(parents=True, exist_ok=True)
        run = testrun_uid  # pytest-xdist's id of this pytest run, the same in all its workers
        marker = settings.dbt_target_path / ".test-session-parsed"
        with open(settings.dbt_target_path / ".test-session-parse.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (marker.exists() and marker.read_text() == run and manifest_is_current(settings)):
                prepare_manifest(settings)
                marker.write_text(run)
        yield


@dataclass
class Refresh:
    returncode: int
    output: str


def refresh_env(source_dir: Path, warehouse: Path, **settings: str) -> dict[str, str]:
    """The environment of a `c360 refresh` with these settings (and no others of the session)."""
    return child_environment(C360_SOURCE_DIR=str(source_dir), C360_WAREHOUSE=str(warehouse),
                             **{f"C360_{k.upper()}": v for k, v in settings.items()})


def run_refresh(source_dir: Path, warehouse: Path, *options: str, **settings: str) -> Refresh:
    """`c360 refresh` as a user runs it: a separate process, settings in the environment."""
    env = refresh_env(source_dir, warehouse, **settings)
    proc = subprocess.run([str(C360), "refresh", *options], cwd=ROOT, env=env, capture_output=True, text=True)
    return Refresh(proc.returncode, proc.stdout + proc.stderr)


def start_refresh(source_dir: Path, warehouse: Path, *options: str, **settings: str) -> subprocess.Popen:
    """`c360 refresh` started and left running; its output (stdout and stderr) is one text pipe."""
    return subprocess.Popen(
        [str(C360), "refresh", *options], cwd=ROOT, env=refresh_env(source_dir, warehouse, **settings),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    )


def query(warehouse: Path, sql: str, params=None) -> list[dict]:
    """Rows of a query on the published file, opened read-only as a BI tool would."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def rows_by(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}
