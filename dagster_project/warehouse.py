"""The two DuckDB files: the refresh's private working file and the published mart.

BI tools only ever open the published file. The refresh writes the working file,
then publishes by building a fresh copy next to the published file and moving it
into place with os.replace: a reader opens either the old file or the new one,
and a reader holding the old file open keeps reading it undisturbed.
"""

from __future__ import annotations

import fcntl
import glob
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from .settings import Settings

# Schemas copied into the published file: the mart, and the audit tables for data stewards.
PUBLISHED_SCHEMAS = ("marts", "audit")
# Operational tables copied too, so a steward can see what was loaded, quarantined and rejected.
PUBLISHED_OPS_TABLES = ("loaded_files", "rejected_files", "match_rate_history", "quarantined_rows")
TEMP_SUFFIX = ".publishing"
# Published tables written in this order, so that DuckDB's row-group min/max statistics let a
# one-customer lookup read a single row group instead of scanning the table.
PUBLISHED_ORDER = {
    ("marts", "customer_360"): "customer_id",
    ("marts", "customer_timeline"): "customer_id, event_sequence",
}
# Unique indexes of the published file: a BI tool's one-customer lookup becomes an index probe.
PUBLISHED_UNIQUE_KEYS = {("marts", "customer_360"): "customer_id"}


class RefreshLockedError(RuntimeError):
    """Another refresh holds the lock."""


class PublishError(RuntimeError):
    """The working file could not be published."""


@contextmanager
def refresh_lock(settings: Settings) -> Iterator[None]:
    """One refresh at a time. The kernel drops the lock when its holder dies (kill -9 too)."""
    settings.lock_file.parent.mkdir(parents=True, exist_ok=True)
    with settings.lock_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RefreshLockedError(
                f"another refresh is running (lock {settings.lock_file}); try again when it ends"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def work_connection(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    settings.work_db.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_when_free(settings.work_db, read_only)
    try:
        configure(con, settings)
        yield con
    finally:
        con.close()


def configure(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = ?", [settings.memory_limit])


def _connect_when_free(path: Path, read_only: bool, wait_seconds: float = 15.0) -> duckdb.DuckDBPyConnection:
    """Connect, waiting a little while another process still holds the file's lock.

    The holder is normally a dbt child of a refresh killed a moment ago, which the kernel is
    killing too (see dbt_child.py); anything holding it longer is named in the error.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_publish_files(settings: Settings) -> list[Path]:
    """Half-written copies left by a publish that was killed: those whose process is gone."""
    folder = settings.warehouse.parent
    removed = []
    if folder.is_dir():
        for path in folder.glob(f".{glob.escape(settings.warehouse.name)}.*{TEMP_SUFFIX}*"):
            pid = path.name[len(settings.warehouse.name) + 2 :].split(".", 1)[0]
            if pid.isdigit() and process_alive(int(pid)):
                continue  # a publish running now
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(settings: Settings, models: list[tuple[str, str]]) -> dict[str, int]:
    """Copy the models (schema, name) and the published ops tables of the working file into a new
    file, and swap it in atomically. Nothing else is copied: not a table of a model that no longer
    exists, nor one that dbt left behind when it was killed.

    Returns the row count of every published table.
    """
    target = settings.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_publish_files(settings)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{time.time_ns()}{TEMP_SUFFIX}")
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(temp))
        try:
            configure(con, settings)
            con.execute("attach ? as work (read_only)", [str(settings.work_db)])
            present = set(
                con.execute(
                    """
                    select schema_name, table_name from duckdb_tables() where database_name = 'work'
                    union all
                    select schema_name, view_name from duckdb_views()
                    where database_name = 'work' and not internal
                    """
                ).fetchall()
            )
            missing = sorted(f"{schema}.{name}" for schema, name in models if (schema, name) not in present)
            if not models or missing:
                raise PublishError(
                    f"the working file {settings.work_db} lacks model(s): {', '.join(missing) or 'all'}"
                )
            ops_tables = sorted(("ops", name) for name in PUBLISHED_OPS_TABLES if ("ops", name) in present)
            for schema, table in sorted(models) + ops_tables:
                con.execute(f'create schema if not exists "{schema}"')
                order = PUBLISHED_ORDER.get((schema, table))
                con.execute(
                    f'create table "{schema}"."{table}" as select * from work."{schema}"."{table}"'
                    + (f" order by {order}" if order else "")
                )
                if (schema, table) in PUBLISHED_UNIQUE_KEYS:
                    con.execute(
                        f'create unique index "{table}__unique_key" on "{schema}"."{table}" '
                        f"({PUBLISHED_UNIQUE_KEYS[(schema, table)]})"
                    )
                counts[f"{schema}.{table}"] = con.execute(
                    f'select count(*) from "{schema}"."{table}"'
                ).fetchone()[0]
            con.execute("detach work")
            con.execute("checkpoint")
        finally:
            con.close()
        _fsync(temp)
        os.replace(temp, target)
        _fsync(target.parent)
    finally:
        for leftover in (temp, temp.with_name(temp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return counts
