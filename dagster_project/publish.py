"""Publishing: the tested working file becomes the mart BI tools read."""

import json

import dagster as dg

from .dbt_assets import c360_dbt_assets
from .dbt_project import dbt_project
from .match_rates import MATCH_RATE_HISTORY_KEY
from .resources import C360Settings
from .warehouse import PUBLISHED_SCHEMAS, publish

PUBLISHED_MART_KEY = dg.AssetKey(["warehouse", "published_mart"])


def published_models() -> list[tuple[str, str]]:
    """(schema, table) of every dbt model in the published schemas, from the dbt manifest."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return sorted(
        (node["schema"], node["alias"] or node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["schema"] in PUBLISHED_SCHEMAS
        and node["config"]["materialized"] != "ephemeral"
    )


@dg.asset(
    key=PUBLISHED_MART_KEY,
    group_name="publish",
    kinds={"duckdb"},
    deps=[*c360_dbt_assets.keys, MATCH_RATE_HISTORY_KEY],
    description=(
        "The published DuckDB file at C360_WAREHOUSE. Replaced atomically, and only when every "
        "upstream asset and blocking check succeeded in this run."
    ),
)
def published_mart(context: dg.AssetExecutionContext, c360: C360Settings) -> dg.MaterializeResult:
    settings = c360.settings()
    counts = publish(settings, published_models())
    context.log.info(f"published {settings.warehouse}: {counts}")
    return dg.MaterializeResult(
        metadata={"path": str(settings.warehouse), **{f"rows.{k}": v for k, v in counts.items()}}
    )
