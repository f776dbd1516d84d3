"""Publishing: the tested working file becomes the mart BI tools read, replaced atomically.

The refresh builds a fresh copy next to the published file and moves it into place with
os.replace: a reader opens either the old file or the new one, and a reader holding the old
file open keeps reading it undisturbed.
"""


import json
import os
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb

from ...settings import PROJECT_ROOT, Settings
from ...warehouse import TEMP_SUFFIX, configure, remove_stale_publish_files
from ..audit.match_rates import MATCH_RATE_HISTORY_KEY
from ..resources import C360Resource
from .comments import copy_comments
from . import pii

PUBLISHED_MART_KEY = dg.AssetKey(["warehouse", "published_mart"])

# Schemas copied into the published file: the mart, and the audit tables for data stewards.
PUBLISHED_SCHEMAS = ("marts", "audit")
# Operational tables copied too, so a steward can see what was loaded, quarantined and rejected.
PUBLISHED_OPS_TABLES = ("loaded_files", "rejected_files", "match_rate_history", "quarantined_rows",
                        "customer_value_fits", "customer_value_calibration", "data_quality_findings")
# Published tables written in this order, so that DuckDB's row-group min/max statistics let a
# one-customer lookup read a single row group instead of scanning the table.
PUBLISHED_ORDER = {
    ("marts", "customer_360"): "customer_id",
    ("marts", "customer_timeline"): "customer_id, event_sequence",
}
# Unique indexes of the published file: a BI tool's one-customer lookup becomes an index probe.
PUBLISHED_UNIQUE_KEYS = {("marts", "customer_360"): "customer_id"}


class PublishError(RuntimeError):
    """The working file could not be published."""


@dataclass(frozen=True)
class PublishInfo:
    """What ops.publish_info says of the published file (besides its row counts)."""

    run_id: str
    engine: str
    pii: str = "clear"  # C360_PII: personal data of this file in clear or masked

    def row(self, as_of_date, counts: dict[str, int]) -> list:
        return [as_of_date, self.run_id, self.engine, code_version(), json.dumps(counts, sort_keys=True),
                self.pii]


@cache
def code_version() -> str:
    """The c360 package version, with the git commit of the checkout when there is one."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return version("c360") + (f"+{commit}" if commit else "")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Published:
    as_of_date: object  # datetime.date
    row_counts: dict[str, int]
    open_findings: list[dict]  # ops.data_quality_findings: the warnings still true of the data


def publish(
    settings: Settings,
    models: list[tuple[str, str]],
    info: PublishInfo,
    personal: dict[tuple[str, str], dict[str, str]] | None = None,
) -> Published:
    """Copy the models (schema, name) and the published ops tables of the working file into a new
    file, and swap it in atomically. Nothing else is copied: not a table of a model that no longer
    exists, nor one that dbt left behind when it was killed.

    With settings.pii == "masked", the personal columns are copied masked (pii.py): `personal`
    (schema, table) -> {column: kind} names the models' (from the dbt manifest, pii.model_pii),
    pii.OPS_PII the ops tables'.

    ops.publish_info gets one row: the as-of date of the mart, when and by which run, engine and
    code it was published, the row count of every published table, and the PII policy.
    """
    masked = settings.pii == "masked"
    personal = {**(personal or {}), **pii.OPS_PII} if masked else {}
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
            if masked:
                phones = ("work.raw_identity.phone_numbers" if ("raw_identity", "phone_numbers") in present
                          else None)
                pii.install(con, settings.phone_region, phones)
            for schema, table in sorted(models) + ops_tables:
                con.execute(f'create schema if not exists "{schema}"')
                order = PUBLISHED_ORDER.get((schema, table))
                columns = "*"
                if (schema, table) in personal:
                    names = [name for (name,) in con.execute(
                        "select column_name from duckdb_columns() where database_name = 'work' "
                        "and schema_name = ? and table_name = ? order by column_index", [schema, table]
                    ).fetchall()]
                    try:
                        columns = pii.select_list(f"{schema}.{table}", names, personal[(schema, table)])
                    except pii.PiiError as exc:
                        raise PublishError(str(exc)) from exc
                con.execute(
                    f'create table "{schema}"."{table}" as select {columns} from work."{schema}"."{table}"'
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
            as_of_date = con.execute(
                "select as_of_date from work.intermediate.int_as_of_date_resolved"
            ).fetchone()[0]
            con.execute("create schema if not exists ops")
            findings = _open_findings(con)
            con.execute(
                """
                create table ops.publish_info (
                    as_of_date date not null,
                    refreshed_at timestamptz not null default current_timestamp,
                    run_id varchar not null,
                    engine varchar not null,
                    code_version varchar not null,
                    row_counts json not null,
                    pii varchar not null
                )
                """
            )
            con.execute(
                "insert into ops.publish_info (as_of_date, run_id, engine, code_version, row_counts, pii) "
                "values (?, ?, ?, ?, ?, ?)",
                info.row(as_of_date, counts),
            )
            copy_comments(con, sorted(models) + ops_tables + [("ops", "publish_info")], source="work")
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
    return Published(as_of_date=as_of_date, row_counts=counts, open_findings=findings)


def _open_findings(con: duckdb.DuckDBPyConnection) -> list[dict]:
    if not con.execute("select count(*) from duckdb_tables() where database_name = current_database() "
                       "and schema_name = 'ops' and table_name = 'data_quality_findings'").fetchone()[0]:
        return []
    rows = con.execute("select tested_model, check_name, failing_rows, strftime(first_seen_at, '%Y-%m-%d %H:%M') "
                       "from ops.data_quality_findings order by tested_model, check_name").fetchall()
    return [dict(zip(("model", "check", "rows", "since"), row)) for row in rows]


def published_models(manifest_path: Path) -> list[tuple[str, str]]:
    """(schema, table) of every dbt model in the published schemas, from the dbt manifest."""
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        (node["schema"], node["alias"] or node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["schema"] in PUBLISHED_SCHEMAS
        and node["config"]["materialized"] != "ephemeral"
    )


def build_published_mart(dbt_assets: list[dg.AssetsDefinition], manifest_path: Path) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_MART_KEY,
        group_name="publish",
        kinds={"duckdb"},
        deps=[*(key for assets in dbt_assets for key in assets.keys), MATCH_RATE_HISTORY_KEY],
        description=(
            "The published DuckDB file at C360_WAREHOUSE. Replaced atomically, and only when every "
            "upstream asset and blocking check succeeded in this run. ops.publish_info says as of "
            "which date, when, by which run and code. With C360_PII=masked its personal data is "
            "masked (columns marked meta pii in dbt, and raw record text)."
        ),
    )
    def published_mart(context: dg.AssetExecutionContext, c360: C360Resource) -> dg.MaterializeResult:
        settings = c360.settings()
        published = publish(settings, published_models(manifest_path),
                            PublishInfo(run_id=context.run.run_id, engine=settings.engine, pii=settings.pii),
                            pii.model_pii(manifest_path, PUBLISHED_SCHEMAS))
        context.log.info(f"published {settings.warehouse} as of {published.as_of_date}")
        return dg.MaterializeResult(
            metadata={
                "path": str(settings.warehouse),
                "as_of_date": str(published.as_of_date),
                "pii": settings.pii,
                "open_findings": dg.MetadataValue.json(published.open_findings),
                **{f"rows.{k}": v for k, v in published.row_counts.items()},
            }
        )

    return published_mart
