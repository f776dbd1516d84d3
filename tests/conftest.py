"""Shared fixtures: real DuckDB files, real dbt, real Dagster runs; nothing mocked."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
C360 = Path(sys.executable).parent / "c360"
SETTING_NAMES = ("C360_SOURCE_DIR", "C360_WAREHOUSE", "C360_AS_OF", "C360_TIMEZONE", "C360_PHONE_REGION",
                 "C360_FRESHNESS_DAYS", "C360_MEMORY_LIMIT")


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory):
    """Own DAGSTER_HOME (telemetry off) and a parsed dbt manifest, once per session."""
    from dagster_project.cli import ensure_dagster_home

    ensure_dagster_home(tmp_path_factory.mktemp("dagster_home"))  # sets DAGSTER_HOME
    for name in SETTING_NAMES:
        os.environ.pop(name, None)
    from dagster_project.dbt_project import prepare_manifest

    prepare_manifest()
    yield


@dataclass
class Refresh:
    returncode: int
    output: str


def refresh_env(source_dir: Path, warehouse: Path, **settings: str) -> dict[str, str]:
    """The environment of a `c360 refresh` with these settings (and no others of the session)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.update({"C360_SOURCE_DIR": str(source_dir), "C360_WAREHOUSE": str(warehouse)})
    env.update({f"C360_{k.upper()}": v for k, v in settings.items()})
    return env


def run_refresh(source_dir: Path, warehouse: Path, **settings: str) -> Refresh:
    """`c360 refresh` as a user runs it: a separate process, settings in the environment."""
    env = refresh_env(source_dir, warehouse, **settings)
    proc = subprocess.run([str(C360), "refresh"], cwd=ROOT, env=env, capture_output=True, text=True)
    return Refresh(proc.returncode, proc.stdout + proc.stderr)


def start_refresh(source_dir: Path, warehouse: Path, **settings: str) -> subprocess.Popen:
    """`c360 refresh` started and left running; its output (stdout and stderr) is one text pipe."""
    return subprocess.Popen(
        [str(C360), "refresh"], cwd=ROOT, env=refresh_env(source_dir, warehouse, **settings),
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
