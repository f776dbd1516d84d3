"""Publishing: the tested working file becomes the mart BI tools read."""


import dagster as dg

from .dbt_assets import c360_dbt_assets
from .match_rates import MATCH_RATE_HISTORY_KEY
from .resources import C360Settings
from .warehouse import publish

PUBLISHED_MART_KEY = dg.AssetKey(["warehouse", "published_mart"])


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
    counts = publish(settings)
    context.log.info(f"published {settings.warehouse}: {counts}")
    return dg.MaterializeResult(
        metadata={"path": str(settings.warehouse), **{f"rows.{k}": v for k, v in counts.items()}}
    )
