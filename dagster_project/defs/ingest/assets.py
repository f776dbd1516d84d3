"""Ingestion assets: one asset per source entity, keyed like the dbt source it feeds."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from ..resources import C360Resource
from ...warehouse import work_connection
from .contract import ENTITIES, Entity, entities_of
from .loader import LoadSummary, load_entity, rejection_message


def _refresh_quarantine_view(con) -> None:
    """ops.quarantined_rows: every quarantined row of every source, with its reason."""
    parts = []
    for entity in ENTITIES:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [entity.raw_schema, entity.name],
        ).fetchone()[0]
        if not exists:
            continue
        record = "_record" if entity.file_format == "jsonl" else (
            "cast(json_object(" + ", ".join(f"'{c}', \"{c}\"" for c in entity.columns) + ") as varchar)"
        )
        parts.append(
            f"select '{entity.system}' as system, '{entity.name}' as entity, _file as file_name, "
            f"_line as line, _load_id as load_id, _quarantine_reason as reason, {record} as record "
            f"from {entity.raw_table} where _quarantine_reason is not null"
        )
    if parts:
        con.execute("create or replace view ops.quarantined_rows as " + " union all ".join(parts))


def raw_row_counts(con, entity: Entity) -> dict[str, int]:
    """The raw-layer identity: rows in the raw table, read from files, accepted and quarantined."""
    raw, quarantined = con.execute(
        f"select count(*), count(_quarantine_reason) from {entity.raw_table}"
    ).fetchone()
    read, logged_quarantined = con.execute(
        "select coalesce(sum(rows_read), 0), coalesce(sum(rows_quarantined), 0) "
        "from ops.loaded_files where system = ? and entity = ?",
        [entity.system, entity.name],
    ).fetchone()
    return {
        "raw_rows": int(raw),
        "rows_read_from_files": int(read),
        "accepted_rows": int(raw - quarantined),
        "quarantined_rows": int(quarantined),
        "quarantined_rows_logged": int(logged_quarantined),
    }


def extract_freshness(con, entity: Entity, today: date, threshold_days: int) -> dict:
    """How old the newest extract of this entity is, against the freshness threshold."""
    newest = con.execute(
        "select max(extract_date) from ops.loaded_files where system = ? and entity = ?",
        [entity.system, entity.name],
    ).fetchone()[0]
    age = None if newest is None else (today - newest).days
    fresh = age is not None and age <= threshold_days
    result = {
        "newest_extract_date": None if newest is None else newest.isoformat(),
        "age_days": age,
        "threshold_days": threshold_days,
        "today": today.isoformat(),
        "fresh": fresh,
    }
    if newest is None:
        result["problem"] = f"no {entity.system}/{entity.name} extract has been loaded"
    elif not fresh:
        result["problem"] = (
            f"newest {entity.system}/{entity.name} extract is from {newest.isoformat()}, "
            f"{age} day(s) old (threshold {threshold_days})"
        )
    return result


def build_ingest_asset(entity: Entity) -> dg.AssetsDefinition:
    @dg.asset(
        key=entity.asset_key,
        group_name=entity.system,
        kinds={"duckdb"},
        description=f"{entity.description} Raw table `{entity.raw_table}` of the working file.",
        check_specs=[
            dg.AssetCheckSpec(
                name="raw_rows_equal_accepted_plus_quarantined",
                asset=entity.asset_key,
                blocking=True,
                description="Raw rows = rows read from files = accepted + quarantined.",
            ),
            dg.AssetCheckSpec(
                name="newest_extract_is_fresh",
                asset=entity.asset_key,
                description=(
                    "Warns when the newest extract is more than C360_FRESHNESS_DAYS days (default 2) "
                    "older than today in C360_TIMEZONE."
                ),
            ),
        ],
    )
    def _ingest(context: dg.AssetExecutionContext, c360: C360Resource):
        settings = c360.settings()
        with work_connection(settings) as con:
            summary: LoadSummary = load_entity(
                con, entity, settings.source_dir, context.run.run_id, log=context.log.info
            )
            _refresh_quarantine_view(con)
            counts = raw_row_counts(con, entity)
            today = datetime.now(ZoneInfo(settings.timezone)).date()
            freshness = extract_freshness(con, entity, today, settings.freshness_days)
        message = rejection_message([summary], settings.source_dir)
        if message:
            raise dg.Failure(description=message, metadata=summary.as_metadata())
        if summary.schema_drift:
            context.log.warning(f"schema drift in {entity.system}.{entity.name}: {summary.schema_drift}")
        passed = (
            counts["raw_rows"] == counts["rows_read_from_files"]
            and counts["quarantined_rows"] == counts["quarantined_rows_logged"]
            and counts["accepted_rows"] + counts["quarantined_rows"] == counts["raw_rows"]
        )
        yield dg.MaterializeResult(metadata={**summary.as_metadata(), **counts})
        yield dg.AssetCheckResult(
            check_name="raw_rows_equal_accepted_plus_quarantined",
            passed=passed,
            metadata=counts,
        )
        yield dg.AssetCheckResult(
            check_name="newest_extract_is_fresh",
            passed=freshness.pop("fresh"),
            severity=dg.AssetCheckSeverity.WARN,
            metadata=freshness,
        )

    return _ingest


def build_ingest_assets(system: str) -> list[dg.AssetsDefinition]:
    return [build_ingest_asset(entity) for entity in entities_of(system)]
