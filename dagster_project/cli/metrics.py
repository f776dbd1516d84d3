"""`c360 metrics`: ask a metric of the semantic layer (MetricFlow over the published mart).

    c360 metrics --metrics nps,revenue --group-by metric_time__quarter [--where ...] [--order ...]
                 [--csv FILE] [any other `mf query` flag, passed through]
    c360 metrics --validate-configs    # `mf validate-configs`: the semantic layer against the mart

Answers from the published file (C360_WAREHOUSE), read-only, so it works while a refresh runs.
MetricFlow's errors (an unknown metric or dimension, ...) are printed as MetricFlow words them,
and the command exits non-zero.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import published_settings, say


# c360's own options of `c360 metrics` that take a value.
VALUE_OPTIONS = ("--metrics", "--group-by", "--where", "--order", "--csv")


def glue_values(argv: list[str]) -> list[str]:
    """`--order -revenue` (descending, as mf writes it) as `--order=-revenue`: argparse would take
    a value that starts with '-' for an option."""
    glued, position = [], 0
    while position < len(argv):
        token = argv[position]
        if token in VALUE_OPTIONS and position + 1 < len(argv) and argv[position + 1].startswith("-"):
            glued.append(f"{token}={argv[position + 1]}")
            position += 2
        else:
            glued.append(token)
            position += 1
    return glued


def mf_arguments(args: argparse.Namespace, passed_through: list[str]) -> list[str]:
    """The `mf` command line of `c360 metrics`."""
    if args.validate_configs:
        return ["validate-configs", *passed_through]
    mf = ["query", "--metrics", args.metrics]
    if args.group_by:
        mf += ["--group-by", args.group_by]
    for where in args.where or []:
        mf += ["--where", where]
    if args.order:
        mf += ["--order", args.order]
    if args.csv:
        mf += ["--csv", str(Path(args.csv).resolve())]  # mf runs in a folder of its own
    return mf + passed_through


def run_metrics(args: argparse.Namespace) -> int:
    if not args.validate_configs and not args.metrics:
        say("metrics: name the metrics, e.g. --metrics nps,revenue (or --validate-configs)")
        return 2
    settings, code = published_settings()
    if settings is None:
        return code
    from ..semantic_layer import SemanticLayerError, run_metricflow

    try:
        return run_metricflow(settings, mf_arguments(args, args.passed_through)).returncode
    except SemanticLayerError as exc:
        say(f"metrics: {exc}")
        return 1


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "metrics",
        help="query the semantic layer's metrics (MetricFlow) on the published mart",
        description="A MetricFlow query (`mf query`) on the published mart; flags not listed here "
                    "are passed to `mf query` as they are (e.g. --limit, --explain, --start-time).",
    )
    p.add_argument("--metrics", help="metrics, comma-separated: nps,revenue")
    p.add_argument("--group-by", help="dimensions, comma-separated: metric_time__quarter,customer__tier")
    p.add_argument("--where", action="append",
                   help="a filter, e.g. \"{{ Dimension('retention_by_year__tier') }} = 'gold'\" (repeatable)")
    p.add_argument("--order", help="order by, comma-separated; '-' before a name for descending")
    p.add_argument("--csv", metavar="FILE", help="write the result as CSV to FILE")
    p.add_argument("--validate-configs", action="store_true",
                   help="check the semantic layer against the published mart (`mf validate-configs`)")
    p.set_defaults(func=run_metrics, passes_through=True)
