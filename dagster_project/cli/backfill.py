"""`c360 backfill --from D1 --to D2`: refresh as of each business day in turn.

The daily cursor is the extract date. For each day D of the range the refresh sees only the
extracts dated on or before D (a staged folder of symbolic links to them, next to the
warehouse) and runs as of D, so each day loads only its own new extracts and
publishes the mart as of D; the last day's mart stays published. Files keep their names,
sizes and modification times through the links, so a later `c360 refresh` on the real source
folder skips everything the backfill loaded.

A day whose extracts the warehouse already loaded is re-published as of D from what is
loaded: the raw layer keeps later versions it has seen, so replaying history into an existing
warehouse gives the latest known state of each record, with the metrics' windows at D.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

from ..defs.ingest.loader import FILE_NAME

STAGED_FOLDER = ".backfill_sources"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def stage_extracts_through(source_dir: Path, staged: Path, day: dt.date) -> int:
    """Link every extract of `source_dir` dated on or before `day` into `staged`; new links made."""
    made = 0
    for path in sorted(source_dir.glob("*/*")):
        match = FILE_NAME.match(path.name)
        if match is None or not path.is_file() or dt.date.fromisoformat(match["date"]) > day:
            continue
        link = staged / path.parent.name / path.name
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
            made += 1
    return made


def run_backfill(args: argparse.Namespace) -> int:
    from ..refresh import refresh
    from . import say, settings_or_none

    if args.to_date < args.from_date:
        say("backfill: --to is before --from")
        return 2
    settings = settings_or_none()
    if settings is None:
        return 2
    staged = settings.warehouse.parent / STAGED_FOLDER
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    days = (args.to_date - args.from_date).days + 1
    started = time.monotonic()
    try:
        for done in range(days):
            day = args.from_date + dt.timedelta(days=done)
            made = stage_extracts_through(settings.source_dir, staged, day)
            say(f"backfill {day}: {made} new extract(s) visible")
            # one backfill day: the settings of the command with this day's sources and as-of date
            result = refresh(settings.with_changes(source_dir=staged, as_of=day.isoformat()),
                             allow_future_as_of=True, verbose=args.verbose, say=say)
            if not result.published:
                say(f"backfill stopped at {day}: the refresh did not publish")
                return result.exit_code
            per_day = (time.monotonic() - started) / (done + 1)
            left = days - done - 1
            finish = dt.datetime.now() + dt.timedelta(seconds=per_day * left)
            say(f"backfill: {done + 1}/{days} day(s) done, {left} left, {per_day:.1f} s per day, "
                f"estimated finish {finish:%Y-%m-%d %H:%M}")
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    say(f"backfill {args.from_date}..{args.to_date} published as of {args.to_date}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "backfill", help="refresh as of each business day of a range, seeing only extracts up to that day"
    )
    p.add_argument("--from", dest="from_date", type=_date, required=True, help="first business day")
    p.add_argument("--to", dest="to_date", type=_date, required=True, help="last business day")
    p.add_argument("-v", "--verbose", action="store_true", help="print every Dagster and dbt line")
    p.set_defaults(func=run_backfill)
