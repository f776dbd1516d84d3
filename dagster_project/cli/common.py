"""What every c360 command shares: its voice on stderr, and the settings read once at its start."""

from __future__ import annotations

import sys

from ..settings import Settings, SettingsError, load_settings


def say(message: str) -> None:
    print(f"c360: {message}", file=sys.stderr, flush=True)


def settings_or_none() -> Settings | None:
    """The settings of this process, or None after saying what is wrong with them."""
    try:
        return load_settings()
    except SettingsError as exc:
        say(f"bad setting: {exc}")
        return None


def published_settings() -> tuple[Settings | None, int]:
    """(the settings, 0) when something is published at their warehouse; else (None, exit code)
    after saying why: 2 for a bad setting, 1 when nothing is published yet."""
    settings = settings_or_none()
    if settings is None:
        return None, 2
    if not settings.warehouse.exists():
        say(f"nothing published yet at {settings.warehouse}; run `c360 refresh`")
        return None, 1
    return settings, 0
