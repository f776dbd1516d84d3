"""The Dagster code location (`dagster dev`, the schedule): settings enter here, once."""

from .defs import build_definitions
from .defs.dbt.project import prepare_manifest_if_stale
from .settings import load_settings

settings = load_settings()
prepare_manifest_if_stale(settings)  # Dagster reads the project's structure from dbt's manifest
defs = build_definitions(settings)
