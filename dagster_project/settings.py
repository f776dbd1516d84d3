"""The product's settings: the ONLY module that reads the environment (README, "Settings").

`load_settings()` reads the C360_* variables once, at the edge (the command line, the Dagster
code location, one backfill day), validates them and returns a frozen `Settings`. Everything
below receives that object, or the values it hands out: the Dagster resource is built from it,
dbt gets `Settings.dbt_vars()` as `--vars`, the loader gets paths as arguments.

Every path default is anchored at the project root; a relative path given by the user is
resolved against the current working directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DEFAULT_SOURCE_DIR = PROJECT_ROOT / "seeds" / "demo"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "c360.duckdb"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"
DEFAULT_DBT_TARGET = DBT_PROJECT_DIR / "target"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_PHONE_REGION = "CN"
DEFAULT_FRESHNESS_DAYS = 2
# DuckDB spills to disk beyond this (its own default is 80% of RAM per process, and a refresh has
# two: the loader or publisher, and dbt).
DEFAULT_MEMORY_LIMIT = "6GB"
# A month of the dashboard with fewer NPS responses than this is drawn as "too few responses": an
# NPS over a handful of answers swings from -100 to +100 on one person.
DEFAULT_NPS_MIN_RESPONSES = 30
MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
ENGINES = ("duckdb",)
# C360_PII: what the published main file holds of personal data (README, "Who sees what")
PII_POLICIES = ("clear", "masked")
DEFAULT_PII = "clear"
# Customer value (marts.customer_value; README, "Customer value"). The money defaults are
# placeholders to replace with the company's own figures.
DEFAULT_CLV_REFIT_DAYS = 7  # a fit is re-used until D is this many days after the history it saw
CLV_FIT_METHODS = ("map", "mcmc")  # map: the daily default; mcmc: the full posterior (slow)
DEFAULT_CLV_COST_PER_TICKET = 20.0  # help-desk cost of a year ÷ tickets of that year
DEFAULT_CLV_REFERRAL_VALUE = 50.0  # margin from referred customers of a year ÷ promoters
DEFAULT_CLV_DISCOUNT_RATE = 0.0  # annual; 0.0 as PyMC-Marketing's default
DEFAULT_CLV_MIN_PURCHASERS = 50  # fewer purchasers than this: no fit (too little data)
DEFAULT_CLV_HOLDOUT_DAYS = 180  # each refit is calibrated on a holdout of these last days (0: not)


class SettingsError(ValueError):
    """A setting has a value the product cannot use."""


@dataclass(frozen=True)
class Settings:
    source_dir: Path
    warehouse: Path
    as_of: str | None = None  # YYYY-MM-DD; None: the newest business date in the sources
    timezone: str = DEFAULT_TIMEZONE
    phone_region: str = DEFAULT_PHONE_REGION
    freshness_days: int = DEFAULT_FRESHNESS_DAYS  # an older newest extract gets a freshness warning
    memory_limit: str = DEFAULT_MEMORY_LIMIT  # DuckDB's memory_limit in every process of a refresh
    dagster_home: Path = DEFAULT_DAGSTER_HOME  # Dagster's run history
    dbt_target_path: Path = DEFAULT_DBT_TARGET  # dbt's manifest and per-run folders
    engine: str = "duckdb"
    nps_min_responses: int = DEFAULT_NPS_MIN_RESPONSES  # the dashboard's least responses for a stable NPS
    pii: str = DEFAULT_PII  # clear | masked: personal data of the published main file
    clv_refit_days: int = DEFAULT_CLV_REFIT_DAYS
    clv_fit_method: str = "map"
    clv_cost_per_ticket: float = DEFAULT_CLV_COST_PER_TICKET
    clv_referral_value_per_promoter: float = DEFAULT_CLV_REFERRAL_VALUE
    clv_discount_rate: float = DEFAULT_CLV_DISCOUNT_RATE
    clv_min_purchasers: int = DEFAULT_CLV_MIN_PURCHASERS
    clv_holdout_days: int = DEFAULT_CLV_HOLDOUT_DAYS

    def __post_init__(self) -> None:
        validate(self)

    @property
    def work_db(self) -> Path:
        """The refresh's private working file; BI tools never open it."""
        return self.warehouse.with_name(self.warehouse.stem + ".work.duckdb")

    @property
    def lock_file(self) -> Path:
        return self.warehouse.with_name(self.warehouse.stem + ".refresh.lock")

    @property
    def reps_dir(self) -> Path:
        """One DuckDB file per sales rep (reps/<sales_rep_id>.duckdb), beside the published file."""
        return self.warehouse.parent / "reps"

    @property
    def log_dir(self) -> Path:
        """Full logs of each refresh (Dagster's and dbt's lines), one file per run."""
        return self.warehouse.parent / "logs"

    def with_changes(self, **changes) -> Settings:
        """A copy with some values changed (validated again)."""
        return replace(self, **changes)

    def dbt_vars(self) -> dict[str, str]:
        """What dbt receives as `--vars`: the profile's connection values and the models' settings."""
        return {
            "work_db": str(self.work_db),
            "warehouse": str(self.warehouse),  # the published file (profile target `published`)
            "memory_limit": self.memory_limit,
            "as_of": self.as_of or "",
            "timezone": self.timezone,
            "phone_region": self.phone_region,
            "clv_cost_per_ticket": self.clv_cost_per_ticket,
            "clv_referral_value_per_promoter": self.clv_referral_value_per_promoter,
        }


def _is_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def validate(settings: Settings) -> None:
    """Raise SettingsError naming the first setting the product cannot use."""
    if settings.as_of is not None and not _is_date(settings.as_of):
        raise SettingsError(f"C360_AS_OF must be a date YYYY-MM-DD, got {settings.as_of!r}")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"C360_TIMEZONE must be an IANA zone, got {settings.timezone!r}") from exc
    import phonenumbers  # imported here: only a refresh needs its region tables

    if settings.phone_region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(
            f"C360_PHONE_REGION must be a region the phone library knows (two letters such as CN, US, "
            f"DE), got {settings.phone_region!r}"
        )
    if settings.freshness_days < 0:
        raise SettingsError(f"C360_FRESHNESS_DAYS must be a whole number of days, got {settings.freshness_days}")
    if not MEMORY_LIMIT.fullmatch(settings.memory_limit):
        raise SettingsError(
            f"C360_MEMORY_LIMIT must be a size such as 4GB or 512MB, got {settings.memory_limit!r}"
        )
    if isinstance(settings.nps_min_responses, bool) or not isinstance(settings.nps_min_responses, int) \
            or settings.nps_min_responses < 1:
        raise SettingsError(
            f"C360_NPS_MIN_RESPONSES must be a whole number of responses, 1 or more, got {settings.nps_min_responses!r}"
        )
    if settings.engine not in ENGINES:
        raise SettingsError(f"C360_ENGINE must be one of {', '.join(ENGINES)}, got {settings.engine!r}")
    for name, value, least in (("C360_CLV_REFIT_DAYS", settings.clv_refit_days, 0),
                               ("C360_CLV_MIN_PURCHASERS", settings.clv_min_purchasers, 2),
                               ("C360_CLV_HOLDOUT_DAYS", settings.clv_holdout_days, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise SettingsError(f"{name} must be a whole number, {least} or more, got {value!r}")
    if settings.clv_fit_method not in CLV_FIT_METHODS:
        raise SettingsError(
            f"C360_CLV_FIT_METHOD must be one of {', '.join(CLV_FIT_METHODS)}, got {settings.clv_fit_method!r}"
        )
    for name, value in (("C360_CLV_COST_PER_TICKET", settings.clv_cost_per_ticket),
                        ("C360_CLV_REFERRAL_VALUE_PER_PROMOTER", settings.clv_referral_value_per_promoter),
                        ("C360_CLV_DISCOUNT_RATE", settings.clv_discount_rate)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise SettingsError(f"{name} must be a number, 0 or more, got {value!r}")
    if settings.pii not in PII_POLICIES:
        raise SettingsError(
            f"C360_PII must be one of {', '.join(PII_POLICIES)} (personal data of the published file in "
            f"clear, or masked), got {settings.pii!r}"
        )


def _path(environ: Mapping[str, str], name: str, default: Path) -> Path:
    value = environ.get(name, "").strip()
    return Path(value).resolve() if value else default


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from C360_* variables (and DAGSTER_HOME); the process environment by default."""
    env = os.environ if environ is None else environ

    def text(name: str, default: str = "") -> str:
        return env.get(name, "").strip() or default

    freshness = text("C360_FRESHNESS_DAYS", str(DEFAULT_FRESHNESS_DAYS))
    if not freshness.isdigit():
        raise SettingsError(f"C360_FRESHNESS_DAYS must be a whole number of days, got {freshness!r}")
    nps_min = text("C360_NPS_MIN_RESPONSES", str(DEFAULT_NPS_MIN_RESPONSES))
    if not nps_min.isdigit() or int(nps_min) < 1:
        raise SettingsError(f"C360_NPS_MIN_RESPONSES must be a whole number of responses, 1 or more, got {nps_min!r}")
    def number(name: str, default: float) -> float:
        value = text(name, str(default))
        try:
            return float(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, 0 or more, got {value!r}") from None

    def whole(name: str, default: int) -> int:
        value = text(name, str(default))
        if not value.isdigit():
            raise SettingsError(f"{name} must be a whole number, got {value!r}")
        return int(value)

    return Settings(
        source_dir=_path(env, "C360_SOURCE_DIR", DEFAULT_SOURCE_DIR),
        warehouse=_path(env, "C360_WAREHOUSE", DEFAULT_WAREHOUSE),
        as_of=text("C360_AS_OF") or None,
        timezone=text("C360_TIMEZONE", DEFAULT_TIMEZONE),
        phone_region=text("C360_PHONE_REGION", DEFAULT_PHONE_REGION).upper(),
        freshness_days=int(freshness),
        memory_limit=text("C360_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        dagster_home=_path(env, "DAGSTER_HOME", DEFAULT_DAGSTER_HOME),
        dbt_target_path=_path(env, "C360_DBT_TARGET_PATH", DEFAULT_DBT_TARGET),
        engine=text("C360_ENGINE", "duckdb").lower(),
        nps_min_responses=int(nps_min),
        pii=text("C360_PII", DEFAULT_PII).lower(),
        clv_refit_days=whole("C360_CLV_REFIT_DAYS", DEFAULT_CLV_REFIT_DAYS),
        clv_fit_method=text("C360_CLV_FIT_METHOD", "map").lower(),
        clv_cost_per_ticket=number("C360_CLV_COST_PER_TICKET", DEFAULT_CLV_COST_PER_TICKET),
        clv_referral_value_per_promoter=number("C360_CLV_REFERRAL_VALUE_PER_PROMOTER", DEFAULT_CLV_REFERRAL_VALUE),
        clv_discount_rate=number("C360_CLV_DISCOUNT_RATE", DEFAULT_CLV_DISCOUNT_RATE),
        clv_min_purchasers=whole("C360_CLV_MIN_PURCHASERS", DEFAULT_CLV_MIN_PURCHASERS),
        clv_holdout_days=whole("C360_CLV_HOLDOUT_DAYS", DEFAULT_CLV_HOLDOUT_DAYS),
    )


SETTING_PREFIX = "C360_"


def child_environment(**variables: str) -> dict[str, str]:
    """The environment for a child `c360` process: this process's, without its C360_* settings,
    plus `variables` (names as given, e.g. C360_WAREHOUSE=..., DAGSTER_HOME=...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIX)}
    env.update(variables)
    return env
