"""The two DuckDB files: the refresh's private working file and the published mart.

BI tools only ever open the published file. The refresh writes the working file,
then publishes by building a fresh copy next to the published file and moving it
into place with os.replace: a reader opens either the old file or the new one,
and a reader holding the old file open keeps reading it undisturbed.
"""

from __future__ import annotations

import fcntl
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
    con = duckdb.connect(str(settings.work_db), read_only=read_only)
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def remove_stale_publish_files(settings: Settings) -> list[Path]:
    """Half-written copies left by a refresh that was killed while publishing."""
    folder = settings.warehouse.parent
    removed = []
    if folder.is_dir():
        for path in folder.glob(f".{settings.warehouse.name}*{TEMP_SUFFIX}*"):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(settings: Settings) -> dict[str, int]:
    """Copy the published schemas of the working file into a new file and swap it in atomically.

    Returns the row count of every published table.
    """
    target = settings.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{time.time_ns()}{TEMP_SUFFIX}")
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(temp))
        try:
            con.execute("set TimeZone = 'UTC'")
            con.execute(f"attach '{settings.work_db}' as work (read_only)")
            tables = con.execute(
                """
                select schema_name, table_name
                from (
                    select database_name, schema_name, table_name from duckdb_tables()
                    union all
                    select database_name, schema_name, view_name from duckdb_views() where not internal
                ) as relations
                where database_name = 'work'
                  and (schema_name in (select unnest(?))
                       or (schema_name = 'ops' and table_name in (select unnest(?))))
                order by 1, 2
                """,
                [list(PUBLISHED_SCHEMAS), list(PUBLISHED_OPS_TABLES)],
            ).fetchall()
            if not any(schema == "marts" for schema, _ in tables):
                raise PublishError(f"the working file {settings.work_db} holds no mart tables")
            for schema, table in tables:
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(f'create table "{schema}"."{table}" as select * from work."{schema}"."{table}"')
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
        temp.unlink(missing_ok=True)
    return counts
