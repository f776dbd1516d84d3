"""Ingestion of the sales system's extracts (see sources.md)."""

from .assets import build_ingest_assets

sales_assets = build_ingest_assets("sales")
