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

# the suffix of the half-written copy a publish builds next to the published file
TEMP_SUFFIX = ".publishing"



class RefreshLockedError(RuntimeError):
    """Another refresh holds the lock."""


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


def sql_literal(text: str) -> str:
    """A SQL string literal, for statements that take no prepared parameter (COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


def rows_fingerprint(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Row count and an order-free hash of every row of `relation` ("schema"."table", quoted):
    equal for the same rows, whatever their order; one scan."""
    rows, total = con.execute(f"select count(*), coalesce(sum(hash(t)), 0)::hugeint from {relation} as t").fetchone()
    return f"{rows}:{total}"
