"""Dagster's run history on SQLite, without a disk flush per event.

Dagster's own SQLite event log opens, commits and closes a connection for every event, and
closing the last connection of a WAL database checkpoints it with an fsync: about 40 ms per event
here, and a refresh logs 700 events (a materialization and an asset check per dbt model and test).
This storage keeps one pooled connection per database and commits in WAL mode with
`synchronous = normal`: a crashed refresh still leaves a consistent history (SQLite's WAL
guarantee); only a power cut may lose its last events. DAGSTER_HOME's dagster.yaml selects it
(see `dagster_yaml()`).
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy.engine import Connection, Engine

MODULE, CLASS = __name__, "PooledSqliteEventLogStorage"


def dagster_yaml() -> str:
    """The dagster.yaml of a DAGSTER_HOME used by c360: this event log, no telemetry."""
    return (
        "# Written by c360: local run storage with pooled SQLite connections, no telemetry.\n"
        "event_log_storage:\n"
        f"  module: {MODULE}\n"
        f"  class: {CLASS}\n"
        "telemetry:\n"
        "  enabled: false\n"
    )


def _set_synchronous_normal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("pragma synchronous = normal")
    cursor.close()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage under DAGSTER_HOME/history/runs, one pooled engine per database."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, Engine] = {}
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        base_dir = config_value.get("base_dir") or os.path.join(
            os.environ["DAGSTER_HOME"], "history", "runs"
        )
        return cls(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = db.create_engine(
                    self.conn_string_for_shard(shard),
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                db.event.listen(engine, "connect", _set_synchronous_normal)
                self._engines[shard] = engine
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # wipe deletes the database files
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
