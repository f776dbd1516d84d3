"""`c360`: the product's command line (refresh, generate)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from .settings import DBT_PROJECT_DIR, PROJECT_ROOT, SettingsError, load_settings

REFRESH_PID_TAG = "c360/refresh_pid"  # the process of a `c360 refresh` run, to spot killed ones

# dagster.yaml contents c360 wrote before, replaced by the current one
EARLIER_DAGSTER_YAMLS = (
    "telemetry:\n  enabled: false\n",
    "# Written by c360: local run storage, no telemetry.\ntelemetry:\n  enabled: false\n",
)


def ensure_dagster_home(home: Path | None = None) -> Path:
    """DAGSTER_HOME (by default .dagster_home/ at the project root) with c360's dagster.yaml:
    pooled SQLite run history (dagster_project/run_history.py), telemetry off. A dagster.yaml
    written by hand is left as it is."""
    from .run_history import dagster_yaml

    home = (home or Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() in EARLIER_DAGSTER_YAMLS:
        config.write_text(dagster_yaml())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _say(message: str) -> None:
    print(f"c360: {message}", file=sys.stderr, flush=True)


def _failed_checks(result, severity: str) -> list[str]:
    """Asset checks of the run that did not pass, at one severity (ERROR or WARN)."""
    lines = []
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if evaluation.passed or evaluation.severity.value != severity:
            continue
        details = {k: v.value for k, v in evaluation.metadata.items()}
        detail = details.get("problem") or (
            f"{details['dagster_dbt/failed_row_count']} failing row(s)"
            if "dagster_dbt/failed_row_count" in details
            else ""
        )
        name = f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        lines.append(f"{name} did not pass" + (f": {detail}" if detail else ""))
    return lines


def _failure_lines(result) -> list[str]:
    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.event_specific_data.error
            text = "failed"
            while error is not None:  # the innermost cause names the real problem
                text = error.message.strip()
                error = error.cause
            lines.append(f"step {event.step_key} failed: {text}")
    return lines + _failed_checks(result, "ERROR")


def close_runs_of_killed_refreshes(instance) -> list[str]:
    """Runs of `c360 refresh` still marked as running whose process is gone (killed): mark them failed.

    Called under the refresh lock, so no other `c360 refresh` is running.
    """
    import dagster as dg

    from .warehouse import process_alive

    closed = []
    for run in instance.get_runs(
        filters=dg.RunsFilter(
            job_name="daily_refresh",
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED],
        )
    ):
        pid = run.tags.get(REFRESH_PID_TAG, "")
        if pid.isdigit() and (int(pid) == os.getpid() or not process_alive(int(pid))):
            instance.report_run_failed(run, f"the c360 refresh process {pid} ended without finishing this run")
            closed.append(run.run_id)
    return closed


def prune_dbt_run_folders(keep: int = 5, min_age_seconds: float = 600) -> None:
    """dagster-dbt writes one target folder per run; keep the newest few (and any in use)."""
    target = DBT_PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")
    folders = sorted(
        (p for p in target.glob("*-???????-???????") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        if time.time() - folder.stat().st_mtime > min_age_seconds:
            shutil.rmtree(folder, ignore_errors=True)


def run_refresh(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        _say(f"bad setting: {exc}")
        return 2
    if not settings.source_dir.is_dir():
        _say(f"C360_SOURCE_DIR {settings.source_dir} is not a folder")
        return 2
    ensure_dagster_home()
    if getattr(args, "full_refresh", False):
        from .dbt_assets import FULL_REFRESH_ENV

        os.environ[FULL_REFRESH_ENV] = "1"
    from .warehouse import RefreshLockedError, refresh_lock, remove_stale_publish_files

    started = time.monotonic()
    try:
        with refresh_lock(settings):
            for path in remove_stale_publish_files(settings):
                _say(f"removed a half-written copy left by an interrupted refresh: {path}")
            prune_dbt_run_folders()
            _say(f"sources {settings.source_dir}; as of {settings.as_of or 'latest source date'}; "
                 f"time zone {settings.timezone}")
            from .dbt_project import prepare_manifest_if_stale
            from .settings import export_dbt_env

            export_dbt_env(settings)  # the same profile as the build's, so dbt can reuse a parse
            if prepare_manifest_if_stale():
                _say("parsed the dbt project (it changed since the last parse)")
            import dagster as dg

            from .definitions import defs
            from .publish import PUBLISHED_MART_KEY

            instance = dg.DagsterInstance.get()
            for run_id in close_runs_of_killed_refreshes(instance):
                _say(f"marked run {run_id} as failed: its refresh process was killed")
            _say("running the daily_refresh job (ingest, build, test, publish)")
            job = defs.resolve_job_def("daily_refresh")
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, tags={REFRESH_PID_TAG: str(os.getpid())}
            )
    except RefreshLockedError as exc:
        _say(str(exc))
        return 3
    published = any(
        event.is_step_materialization and event.asset_key == PUBLISHED_MART_KEY
        for event in result.all_events
    )
    elapsed = time.monotonic() - started
    for line in _failed_checks(result, "WARN"):
        _say(f"warning: {line}")
    if result.success and published:
        _say(f"published {settings.warehouse} in {elapsed:.1f} s (run {result.run_id})")
        return 0
    _say(f"NOT published: the refresh failed after {elapsed:.1f} s (run {result.run_id}); "
         f"{settings.warehouse} is unchanged")
    for line in _failure_lines(result) or ["the job did not reach the publish step"]:
        _say(f"  {line}")
    return 1


def run_report(args: argparse.Namespace) -> int:
    """What the last refresh published: tables and row counts, match rates, and where to go next."""
    import duckdb

    settings = load_settings()
    if not settings.warehouse.exists():
        _say(f"nothing published yet at {settings.warehouse}; run `c360 refresh`")
        return 1
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() order by 1, 2"
        ).fetchall()
        print(f"Published warehouse: {settings.warehouse}")
        for schema, table, _ in tables:
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            print(f"  {schema}.{table:<28} {rows:>10} rows")
        if any(t == "identity_match_rates" for _, t, _ in tables):
            print("Identity match rates:")
            for source, records, matched, rate in con.execute(
                "select source_entity, records, matched_records, match_rate "
                "from audit.identity_match_rates order by 1"
            ).fetchall():
                print(f"  {source:<10} {matched}/{records} matched ({rate:.1%})")
    finally:
        con.close()
    print(
        "\nQuery it:   .venv/bin/python -c \"import duckdb; "
        f"print(duckdb.connect('{settings.warehouse}', read_only=True)"
        ".sql('select * from marts.customer_360 limit 5'))\""
        "\nDagster UI: make ui   (then open http://localhost:3000)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description="Customer-360 warehouse")
    sub = parser.add_subparsers(dest="command", required=True)
    refresh = sub.add_parser("refresh", help="run the whole daily refresh once, headless")
    refresh.add_argument("--full-refresh", action="store_true",
                         help="rebuild the incremental models from the whole raw layer")
    refresh.set_defaults(func=run_refresh)
    report = sub.add_parser("report", help="print what the last refresh published")
    report.set_defaults(func=run_report)
    from . import backfill, bench
    from .tools import generator

    generator.register(sub)
    backfill.register(sub)
    bench.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
