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
