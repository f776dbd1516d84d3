"""Runtime settings, read from environment variables (see README, "Settings").

Every path default is anchored at the project root; a relative path given by the
user is resolved against the current working directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DEFAULT_SOURCE_DIR = PROJECT_ROOT / "seeds" / "demo"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "c360.duckdb"
# DuckDB spills to disk beyond this (its own default is 80% of RAM per process, and a refresh has
# two: the loader or publisher, and dbt).
DEFAULT_MEMORY_LIMIT = "6GB"
MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


class SettingsError(ValueError):
    """A setting has a value the product cannot use."""


@dataclass(frozen=True)
class Settings:
    source_dir: Path
    warehouse: Path
    as_of: str | None
    timezone: str
    phone_region: str
    freshness_days: int = 2  # a source whose newest extract is older gets a freshness warning
    memory_limit: str = DEFAULT_MEMORY_LIMIT  # DuckDB's memory_limit in every process of a refresh

    @property
    def work_db(self) -> Path:
        """The refresh's private working file; BI tools never open it."""
        return self.warehouse.with_name(self.warehouse.stem + ".work.duckdb")

    @property
    def lock_file(self) -> Path:
        return self.warehouse.with_name(self.warehouse.stem + ".refresh.lock")

    def dbt_env(self) -> dict[str, str]:
        """Environment the dbt subprocess reads through env_var()."""
        return {
            "C360_WORK_DB": str(self.work_db),
            "C360_AS_OF": self.as_of or "",
            "C360_TIMEZONE": self.timezone,
            "C360_MEMORY_LIMIT": self.memory_limit,
        }


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).resolve() if value else default


def _is_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def load_settings() -> Settings:
    as_of = os.environ.get("C360_AS_OF", "").strip() or None
    if as_of is not None and not _is_date(as_of):
        raise SettingsError(f"C360_AS_OF must be a date YYYY-MM-DD, got {as_of!r}")
    timezone = os.environ.get("C360_TIMEZONE", "").strip() or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"C360_TIMEZONE must be an IANA zone, got {timezone!r}") from exc
    region = (os.environ.get("C360_PHONE_REGION", "").strip() or "CN").upper()
    if not re.fullmatch(r"[A-Z]{2}", region):
        raise SettingsError(f"C360_PHONE_REGION must be a two-letter region, got {region!r}")
    freshness = os.environ.get("C360_FRESHNESS_DAYS", "").strip() or "2"
    if not freshness.isdigit():
        raise SettingsError(f"C360_FRESHNESS_DAYS must be a whole number of days, got {freshness!r}")
    memory_limit = os.environ.get("C360_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT
    if not MEMORY_LIMIT.fullmatch(memory_limit):
        raise SettingsError(f"C360_MEMORY_LIMIT must be a size such as 4GB or 512MB, got {memory_limit!r}")
    return Settings(
        freshness_days=int(freshness),
        memory_limit=memory_limit,
        source_dir=_path("C360_SOURCE_DIR", DEFAULT_SOURCE_DIR),
        warehouse=_path("C360_WAREHOUSE", DEFAULT_WAREHOUSE),
        as_of=as_of,
        timezone=timezone,
        phone_region=region,
    )


def export_dbt_env(settings: Settings) -> None:
    """Make the settings visible to dbt (profiles.yml and models use env_var())."""
    os.environ.update(settings.dbt_env())
