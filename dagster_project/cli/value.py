"""`c360 validate-value`: how well the purchase model predicts, on a holdout of the last days."""

from __future__ import annotations

import argparse
import json

from .common import say, settings_or_none


def run_validate_value(args: argparse.Namespace) -> int:
    settings = settings_or_none()
    if settings is None:
        return 2
    if args.holdout_days < 1:
        say(f"--holdout-days must be 1 or more, got {args.holdout_days}")
        return 2
    if not settings.work_db.exists():
        say(f"no warehouse at {settings.work_db} yet; run `c360 refresh` first")
        return 1
    from ..defs.value.holdout import read_holdout_data, run_holdout
    from ..warehouse import RefreshLockedError, refresh_lock, work_connection

    try:
        # Under the refresh lock while reading (a reader would block a refresh's writes); the fit
        # runs after the lock is released.
        with refresh_lock(settings), work_connection(settings, read_only=True) as con:
            data = read_holdout_data(con, args.holdout_days)
    except RefreshLockedError as exc:
        say(str(exc))
        return 3
    method = args.method or settings.clv_fit_method
    say(f"fitting on the purchases up to {data.cutoff} ({len(data.histories)} customer(s), {method})")
    report = run_holdout(data, method=method, min_purchasers=settings.clv_min_purchasers)
    if args.json:
        print(json.dumps({
            "as_of": str(report.as_of), "cutoff": str(report.cutoff), "holdout_days": report.holdout_days,
            "fit": report.fit.row() | {"history_as_of": str(report.fit.history_as_of),
                                       "fitted_at": report.fit.fitted_at.isoformat()},
            "customers": report.customers, "actual_total": report.actual_total,
            "predicted_total": report.predicted_total, "naive_total": report.naive_total,
            "mae_model": report.mae_model, "mae_naive": report.mae_naive,
            "calibration": report.calibration.to_dict(orient="records"),
        }, indent=2))
    else:
        print("\n".join(report.lines()))
    return 0 if report.fit.usable else 1


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate-value",
        help="fit the customer-value model on the history up to D - N days and compare its predictions "
             "of the last N days with what customers did (and with a naive baseline)",
    )
    parser.add_argument("--holdout-days", type=int, default=180, help="the days held out (default 180)")
    parser.add_argument("--method", choices=("map", "mcmc"), default=None,
                        help="fit method (default C360_CLV_FIT_METHOD, map)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run_validate_value)
