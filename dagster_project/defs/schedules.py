"""The daily refresh: one job over every asset, and its schedule."""

from __future__ import annotations

import dagster as dg

from ..settings import Settings

DAILY_REFRESH_JOB = "daily_refresh"

daily_refresh_job = dg.define_asset_job(
    name=DAILY_REFRESH_JOB,
    selection=dg.AssetSelection.all(),
    description="Ingest every source, build and test the dbt models, publish the mart.",
    executor_def=dg.in_process_executor,  # one writer: DuckDB allows a single writing process
)


def daily_refresh_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="daily_refresh_schedule",
        job=daily_refresh_job,
        cron_schedule="0 6 * * *",
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every day at 06:00 in C360_TIMEZONE.",
    )
