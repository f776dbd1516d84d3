"""What Dagster shows, one folder per concern: ingest (per source system), dbt, value (the
customer-value models between dbt's intermediate models and marts.customer_value), audit, publish,
and the schedule; `build_definitions(settings)` puts them together with typed resources."""

from __future__ import annotations

import dagster as dg

from ..settings import Settings
from .audit.match_rates import match_rate_history
from .dbt.assets import build_dbt_assets
from .dbt.project import dbt_project
from .ingest.identity import phone_numbers
from .ingest.sales import sales_assets
from .ingest.service import service_assets
from .ingest.survey import survey_assets
from .run_logs import LOGGERS
from .publish.dashboard import dashboard
from .publish.mart import build_published_mart
from .publish.reps import rep_marts
from .resources import C360Resource, dbt_resource
from .schedules import daily_refresh_job, daily_refresh_schedule
from .value.assets import build_customer_value_asset


def build_definitions(settings: Settings, *, full_refresh: bool = False) -> dg.Definitions:
    """The code location for these settings. The dbt manifest must exist (see dbt/project.py)."""
    project = dbt_project(settings)
    dbt_assets = build_dbt_assets(project)
    return dg.Definitions(
        assets=[*sales_assets, *service_assets, *survey_assets, phone_numbers, *dbt_assets,
                build_customer_value_asset(dbt_assets), match_rate_history,
                build_published_mart(dbt_assets, project.manifest_path), rep_marts, dashboard],
        jobs=[daily_refresh_job],
        schedules=[daily_refresh_schedule(settings)],
        resources={
            "c360": C360Resource.from_settings(settings, full_refresh=full_refresh),
            "dbt": dbt_resource(project),
        },
        loggers=LOGGERS,
        executor=dg.in_process_executor,
    )
