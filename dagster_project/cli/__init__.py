"""`c360`: the command line, a thin caller of the refresh library.

Tooling commands (`generate`, `bench`) are plug-ins registered under the `c360.commands` entry
point group (pyproject.toml), so the product package never imports the tooling.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from . import backfill, metrics, report, value
from .common import say, settings_or_none


def run_refresh(args: argparse.Namespace) -> int:
    settings = settings_or_none()
    if settings is None:
        return 2
    from ..refresh import refresh

    return refresh(
        settings,
        full_refresh=args.full_refresh,
        allow_future_as_of=args.allow_future_as_of,
        verbose=args.verbose,
        say=say,
    ).exit_code


def run_prepare(args: argparse.Namespace) -> int:
    """What `dagster dev` needs before it starts: c360's dagster.yaml and a parsed dbt project."""
    settings = settings_or_none()
    if settings is None:
        return 2
    from ..defs.dbt.project import prepare_manifest_if_stale
    from ..instance import ensure_dagster_home

    home = ensure_dagster_home(settings)
    parsed = prepare_manifest_if_stale(settings)
    say(f"DAGSTER_HOME {home} ready; dbt manifest {'parsed' if parsed else 'current'}")
    return 0


def run_dbt_vars(args: argparse.Namespace) -> int:
    """The settings as dbt's --vars JSON, for running dbt by hand (`dbt build --vars "$(c360 dbt-vars)"`)."""
    settings = settings_or_none()
    if settings is None:
        return 2
    from ..defs.dbt.project import dbt_vars_arg

    print(dbt_vars_arg(settings)[1])
    return 0


def add_refresh_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-future-as-of", action="store_true",
                        help="build a mart as of a date after the newest extract (empty future months)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every Dagster and dbt line (always in the run's log file)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description="Customer-360 warehouse")
    sub = parser.add_subparsers(dest="command", required=True)
    refresh = sub.add_parser("refresh", help="run the whole daily refresh once, headless")
    refresh.add_argument("--full-refresh", action="store_true",
                         help="rebuild the incremental models from the whole raw layer")
    add_refresh_options(refresh)
    refresh.set_defaults(func=run_refresh)
    report.register(sub)
    backfill.register(sub)
    metrics.register(sub)
    value.register(sub)
    prepare = sub.add_parser("prepare", help="write DAGSTER_HOME's dagster.yaml and parse the dbt project")
    prepare.set_defaults(func=run_prepare)
    dbt_vars = sub.add_parser("dbt-vars", help="print the settings as dbt --vars JSON (to run dbt by hand)")
    dbt_vars.set_defaults(func=run_dbt_vars)
    for plugin in sorted(entry_points(group="c360.commands"), key=lambda e: e.name):
        plugin.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["metrics"]:
        argv = metrics.glue_values(argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "passes_through", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.passed_through = unknown  # a command that passes its tool's flags through (metrics)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
