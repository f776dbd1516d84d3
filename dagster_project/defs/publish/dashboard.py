"""The dashboard asset: dashboard.html beside the published mart, rebuilt after every publish.

Reads the PUBLISHED file read-only (never the working file), its semantic-layer metrics through
MetricFlow over that file, and replaces the page atomically (see dagster_project/dashboard/). If
MetricFlow fails, the asset fails with its message (the mart is already published).
"""

import dagster as dg

from ...dashboard import build_dashboard
from ..resources import C360Resource
from .mart import PUBLISHED_MART_KEY

DASHBOARD_KEY = dg.AssetKey(["warehouse", "dashboard"])


@dg.asset(
    key=DASHBOARD_KEY,
    group_name="publish",
    kinds={"html", "plotly"},
    deps=[PUBLISHED_MART_KEY],
    description=(
        "dashboard.html in the folder of C360_WAREHOUSE: one self-contained page (plotly.js inside, no "
        "server, no network) with the headline numbers and charts of the published mart, replaced "
        "atomically after every publish."
    ),
)
def dashboard(context: dg.AssetExecutionContext, c360: C360Resource) -> dg.MaterializeResult:
    settings = c360.settings()
    built = build_dashboard(settings)
    metrics = ("the kept MetricFlow answers of the same mart" if built.metricflow_answers_kept
               else f"{built.metricflow_seconds} s of MetricFlow")
    context.log.info(f"wrote {built.path} as of {built.as_of_date} ({len(built.charts)} charts; "
                     f"semantic-layer metrics: {metrics})")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(built.path)),
        "as_of_date": str(built.as_of_date),
        "charts": len(built.charts),
        "bytes": built.bytes,
        "metricflow_seconds": built.metricflow_seconds,
        "metricflow_answers_kept": built.metricflow_answers_kept,
        "nps_min_responses": settings.nps_min_responses,
        **{f"tile.{name}": value for name, value in built.tiles.items() if value is not None},
    })
