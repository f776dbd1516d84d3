"""Dagster's instance for c360: run history under the settings' DAGSTER_HOME.

The history is kept in Dagster's consolidated SQLite event log, chosen in dagster.yaml (public
instance configuration, no code of ours inside Dagster): one database for every run instead of
a file per run. A refresh logs about 700 events (a materialization and a check per dbt model and
test); Dagster's default per-run SQLite file costs ~17 ms of disk flush per event here, the
consolidated log ~3 ms. A dagster.yaml written by hand is left as it is.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from .settings import Settings

WRITTEN_BY_C360 = "# Written by c360"
# dagster.yaml contents c360 wrote before the header above existed
EARLIER_DAGSTER_YAMLS = ("telemetry:\n  enabled: false\n",)


def dagster_yaml(home: Path) -> str:
    """The dagster.yaml of a DAGSTER_HOME used by c360: one SQLite event log, no telemetry."""
    return (
        f"{WRITTEN_BY_C360}: run history in one SQLite database, no telemetry.\n"
        "event_log_storage:\n"
        "  module: dagster.core.storage.event_log\n"
        "  class: ConsolidatedSqliteEventLogStorage\n"
        "  config:\n"
        f"    base_dir: {home / 'history'}\n"
        "telemetry:\n"
        "  enabled: false\n"
    )


def ensure_dagster_home(settings: Settings) -> Path:
    """The settings' DAGSTER_HOME with c360's dagster.yaml (rewritten when c360 wrote an older one)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    wanted = dagster_yaml(home)
    if not config.exists():
        config.write_text(wanted)
    else:
        current = config.read_text()
        if current != wanted and (current.startswith(WRITTEN_BY_C360) or current in EARLIER_DAGSTER_YAMLS):
            config.write_text(wanted)
    return home


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(ensure_dagster_home(settings)))
