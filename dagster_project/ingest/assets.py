"""Ingestion assets: one asset per source entity, keyed like the dbt source it feeds."""


import dagster as dg

from ..resources import C360Settings
from ..warehouse import work_connection
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
            )
        ],
    )
    def _ingest(context: dg.AssetExecutionContext, c360: C360Settings):
        settings = c360.settings()
        with work_connection(settings) as con:
            summary: LoadSummary = load_entity(
                con, entity, settings.source_dir, context.run.run_id, log=context.log.info
            )
            _refresh_quarantine_view(con)
            counts = raw_row_counts(con, entity)
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

    return _ingest


def build_ingest_assets(system: str) -> list[dg.AssetsDefinition]:
    return [build_ingest_asset(entity) for entity in entities_of(system)]
