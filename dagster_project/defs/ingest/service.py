"""Ingestion of the service system's extracts (see sources.md)."""

from .assets import build_ingest_assets

service_assets = build_ingest_assets("service")
