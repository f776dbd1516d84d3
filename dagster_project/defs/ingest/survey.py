"""Ingestion of the survey system's extracts (see sources.md)."""

from .assets import build_ingest_assets

survey_assets = build_ingest_assets("survey")
