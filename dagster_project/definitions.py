"""The Dagster code location: sources -> dbt layers -> published mart, refreshed daily."""

import dagster as dg

from .dbt_assets import c360_dbt_assets
from .ingest.identity import phone_numbers
from .ingest.sales import sales_assets
from .ingest.service import service_assets
from .ingest.survey import survey_assets
from .match_rates import match_rate_history
from .publish import published_mart
from .resources import RESOURCES
from .schedules import daily_refresh_job, daily_refresh_schedule

defs = dg.Definitions(
    assets=[*sales_assets, *service_assets, *survey_assets, phone_numbers, c360_dbt_assets, match_rate_history,
            published_mart],
    jobs=[daily_refresh_job],
    schedules=[daily_refresh_schedule],
    resources=RESOURCES,
    executor=dg.in_process_executor,
)
