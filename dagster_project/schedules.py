"""The daily refresh: one job over every asset, and its schedule."""

from __future__ import annotations

import os

import dagster as dg

daily_refresh_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest every source, build and test the dbt models, publish the mart.",
    executor_def=dg.in_process_executor,  # one writer: DuckDB allows a single writing process
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule",
    job=daily_refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone=os.environ.get("C360_TIMEZONE", "").strip() or "UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 in C360_TIMEZONE.",
)
