"""The ``c360 generate`` sub-command."""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time

from .files import ENTITIES
from .pipeline import generate
from .run import log

def _date_arg(s: str) -> str:
    try:
        _dt.date.fromisoformat(s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {s!r}") from exc
    return s


def register(subparsers) -> None:
    """Add the ``generate`` sub-command to an argparse subparsers object."""
    p = subparsers.add_parser(
        "generate",
        help="generate deterministic demo source extracts (sales/, service/, survey/)",
        description="Generate realistic, deterministic source extracts for the customer-360 warehouse.",
    )
    p.add_argument("--customers", type=int, required=True, help="number of ERP customers")
    p.add_argument("--days", type=int, required=True, help="days of history ending on --end-date")
    p.add_argument("--seed", type=int, required=True, help="random seed (same seed + args = same bytes)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--end-date", type=_date_arg, default="2026-06-30", help="last extract date (default 2026-06-30)")
    p.add_argument("--extract-every-days", type=int, default=1, help="days between extracts (default 1)")
    p.add_argument("--bad-row-rate", type=float, default=0.005, help="share of bad rows (default 0.005)")
    p.add_argument("--full-dump-until", type=_date_arg, default=None,
                   help="put every version dated on or before this date into one initial extract")
    p.set_defaults(func=run_from_args)


def run_from_args(args) -> int:
    t0 = time.time()
    try:
        counts = generate(args.out, customers=args.customers, days=args.days, seed=args.seed,
                          end_date=args.end_date, extract_every_days=args.extract_every_days,
                          bad_row_rate=args.bad_row_rate, full_dump_until=args.full_dump_until)
    except ValueError as exc:
        print(f"c360 generate: error: {exc}", file=sys.stderr)
        return 2
    log(f"done in {time.time() - t0:.1f}s -> {os.fspath(args.out)}")
    for ent in ENTITIES:
        c = counts[ent]
        bad = ", ".join(f"{k}={v}" for k, v in c["bad"].items())
        print(f"  {ent:<12} {c['rows']:>12,} rows  {c['files']:>5} files  bad: {bad}", file=sys.stderr)
    return 0
