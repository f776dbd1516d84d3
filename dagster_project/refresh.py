"""`refresh(settings) -> RefreshResult`: the library entry point of one refresh.

Ingest the new extracts, build and test with dbt, publish: the `daily_refresh` Dagster job, run
in this process under the refresh lock. The command line, backfill, bench and tests are thin
callers of this function; it reads nothing from the environment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from .defs import build_definitions
from .defs.audit.match_rates import MATCH_RATE_HISTORY_KEY
from .defs.dbt.assets import UNCHANGED
from .defs.dbt.project import prepare_manifest_if_stale
from .defs.ingest.contract import ENTITIES
from .defs.ingest.loader import FILE_NAME
from .defs.publish.dashboard import DASHBOARD_KEY
from .defs.publish.mart import PUBLISHED_MART_KEY
from .defs.publish.reps import REP_MARTS_KEY
from .defs.run_logs import close_run_loggers, quiet_missing_check_result_notes, run_logging_config
from .defs.schedules import DAILY_REFRESH_JOB
from .defs.value.assets import CUSTOMER_VALUE_SCORES_KEY
from .instance import dagster_instance
from .settings import Settings
from .warehouse import RefreshLockedError, process_alive, refresh_lock, remove_stale_publish_files, work_connection

REFRESH_PID_TAG = "c360/refresh_pid"  # the process of a refresh run, to spot killed ones
INGEST_KEYS = {dg.AssetKey(entity.asset_key) for entity in ENTITIES}

DBT_GROUPS = ("staging", "intermediate", "marts", "audit")  # the first part of a dbt model's asset key

# exit codes of `c360 refresh`
PUBLISHED, NOT_PUBLISHED, REFUSED, LOCKED = 0, 1, 2, 3


class RefreshRefused(ValueError):
    """The settings or the sources cannot give a correct mart; nothing was loaded."""


@dataclass
class RefreshResult:
    exit_code: int
    run_id: str | None = None
    as_of_date: str | None = None
    summary: list[str] = field(default_factory=list)  # one line per stage
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    log_file: Path | None = None

    @property
    def published(self) -> bool:
        return self.exit_code == PUBLISHED


def _stderr(line: str) -> None:
    print(f"c360: {line}", file=sys.stderr, flush=True)


def refresh(
    settings: Settings,
    *,
    full_refresh: bool = False,
    allow_future_as_of: bool = False,
    verbose: bool = False,
    say: Callable[[str], None] = _stderr,
) -> RefreshResult:
    """One refresh with these settings. Never raises for bad input: the result says what happened."""
    started = time.monotonic()
    try:
        with refresh_lock(settings):
            for path in remove_stale_publish_files(settings):
                say(f"removed a half-written copy left by an interrupted refresh: {path}")
            prune_dbt_run_folders(settings.dbt_target_path)
            check_sources(settings, allow_future_as_of=allow_future_as_of)
            say(f"sources {settings.source_dir}; as of {settings.as_of or 'the newest source date'}; "
                f"time zone {settings.timezone}; phone region {settings.phone_region}; engine {settings.engine}; "
                f"personal data in the published file: {settings.pii}")
            if prepare_manifest_if_stale(settings):
                say("parsed the dbt project (it changed since the last parse)")
            defs = build_definitions(settings, full_refresh=full_refresh)
            instance = dagster_instance(settings)
            for run_id in close_runs_of_killed_refreshes(instance):
                say(f"marked run {run_id} as failed: its refresh process was killed")
            run_id = str(uuid.uuid4())  # known before the run starts: it names the log file
            log_file = settings.log_dir / f"refresh-{dt.datetime.now():%Y%m%d-%H%M%S}-{run_id[:8]}.log"
            say("running the daily_refresh job (ingest, build, test, publish)"
                + ("; full refresh of the incremental models" if full_refresh else ""))
            log_file.parent.mkdir(parents=True, exist_ok=True)
            quiet_missing_check_result_notes()
            # dagster-dbt prints dbt's own lines on standard output: to the log file unless -v
            with open(log_file, "a", encoding="utf-8") as dbt_lines, contextlib.redirect_stdout(
                sys.stdout if verbose else dbt_lines
            ):
                result = defs.resolve_job_def(DAILY_REFRESH_JOB).execute_in_process(
                    instance=instance,
                    raise_on_error=False,
                    run_id=run_id,
                    run_config=run_logging_config(log_file, verbose=verbose),
                    tags={REFRESH_PID_TAG: str(os.getpid())},
                )
            close_run_loggers(run_id)
    except RefreshRefused as exc:
        say(f"refused: {exc}")
        return RefreshResult(REFUSED, failures=[str(exc)])
    except RefreshLockedError as exc:
        say(str(exc))
        return RefreshResult(LOCKED, failures=[str(exc)])
    outcome = summarize(result, settings, elapsed=time.monotonic() - started)
    outcome.log_file = log_file
    for line in outcome.summary:
        say(line)
    for line in outcome.warnings:
        say(f"warning: {line}")
    if not outcome.published:
        for line in outcome.failures or ["the job did not reach the publish step"]:
            say(f"  {line}")
    say(f"full log: {log_file}")
    return outcome


# ---------------------------------------------------------------- before anything loads


def _extract_dates(folder: Path) -> list[dt.date]:
    if not folder.is_dir():
        return []
    return [
        dt.date.fromisoformat(match["date"])
        for path in folder.glob("*/*")
        if path.is_file() and (match := FILE_NAME.match(path.name))
    ]


def _loaded_extract_dates(settings: Settings) -> tuple[int, dt.date | None]:
    """(files loaded so far, newest extract date among them) from the working file."""
    if not settings.work_db.exists():
        return 0, None
    with work_connection(settings, read_only=True) as con:  # waits for a dying dbt child's lock
        found = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'ops' and table_name = 'loaded_files'"
        ).fetchone()[0]
        if not found:
            return 0, None
        return con.execute("select count(*), max(extract_date) from ops.loaded_files").fetchone()


def check_sources(settings: Settings, *, allow_future_as_of: bool = False) -> None:
    """Refuse (RefreshRefused) sources and settings that cannot give a correct mart.

    An empty or missing source folder is refused on a first refresh only; afterwards the refresh
    runs and warns "no new extracts" (see summarize). The newest business date in the sources is
    taken from the extracts' file names (an extract dated X holds records up to X), so the check
    reads no file.
    """
    folder = settings.source_dir
    on_disk = _extract_dates(folder)
    loaded, newest_loaded = _loaded_extract_dates(settings)
    if not on_disk and loaded == 0:
        what = "does not exist" if not folder.exists() else (
            "is not a folder" if not folder.is_dir() else "holds no extracts")
        raise RefreshRefused(
            f"C360_SOURCE_DIR {folder} {what} (expected files such as sales/customers_YYYY-MM-DD.csv); "
            "a first refresh needs the extracts of the sources"
        )
    newest = max([*on_disk, *([newest_loaded] if newest_loaded else [])])
    if settings.as_of and dt.date.fromisoformat(settings.as_of) > newest and not allow_future_as_of:
        raise RefreshRefused(
            f"C360_AS_OF {settings.as_of} is after the newest business date in the sources "
            f"({newest.isoformat()}, the newest extract): future months would be empty and customers "
            "counted as churned; pass --allow-future-as-of to build it anyway"
        )


def prune_dbt_run_folders(target: Path, keep: int = 5, min_age_seconds: float = 600) -> None:
    """dagster-dbt writes one target folder per run; keep the newest few (and any in use)."""
    folders = sorted(
        (p for p in target.glob("*-???????-???????") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        if time.time() - folder.stat().st_mtime > min_age_seconds:
            shutil.rmtree(folder, ignore_errors=True)


def close_runs_of_killed_refreshes(instance: dg.DagsterInstance) -> list[str]:
    """Runs of a refresh still marked as running whose process is gone (killed): mark them failed.

    Called under the refresh lock, so no other refresh is running.
    """
    closed = []
    for run in instance.get_runs(
        filters=dg.RunsFilter(
            job_name=DAILY_REFRESH_JOB,
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED],
        )
    ):
        pid = run.tags.get(REFRESH_PID_TAG, "")
        if pid.isdigit() and (int(pid) == os.getpid() or not process_alive(int(pid))):
            instance.report_run_failed(run, f"the c360 refresh process {pid} ended without finishing this run")
            closed.append(run.run_id)
    return closed


# ---------------------------------------------------------------- what the run did


def _metadata(event: dg.DagsterEvent) -> dict:
    return {key: value.value for key, value in event.materialization.metadata.items()}


def _check_lines(result: dg.ExecuteInProcessResult, severity: dg.AssetCheckSeverity) -> list[str]:
    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed or evaluation.severity != severity:
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


def _step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    lines = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        text = "failed"
        while error is not None:  # the innermost cause names the real problem
            text = error.message.strip()
            error = error.cause
        lines.append(f"step {event.step_key} failed: {text}")
    return lines


def _ingest_line(materializations: list[dg.DagsterEvent]) -> str:
    files = skipped = read = accepted = quarantined = 0
    reasons: Counter = Counter()
    for event in materializations:
        if event.asset_key not in INGEST_KEYS:
            continue
        meta = _metadata(event)
        files += meta["files_loaded"]
        skipped += meta["files_skipped"]
        read += meta["rows_read"]
        accepted += meta["rows_accepted"]
        quarantined += meta["rows_quarantined"]
        reasons.update(meta["quarantine_reasons"])
    why = ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items(), key=lambda r: (-r[1], r[0])))
    return (f"ingest: {files} new file(s) loaded ({skipped} loaded before); {read} row(s) read: "
            f"{accepted} accepted, {quarantined} quarantined" + (f" ({why})" if why else ""))


def _value_line(meta: dict) -> str:
    """The customer-value step: how many were scored, with which fit, refitted or not."""
    line = f"customer value: {meta['customers_scored']} purchaser(s) scored"
    if "fit.fit_id" not in meta:
        return line + " without a fit (value columns null)"
    how = (f"refitted in {meta['fit.seconds']:.1f} s ({meta['refit_reason']})" if meta["refitted"]
           else "fit re-used")
    return line + f" with the fit of history up to {meta['fit.history_as_of']}: {how}"


def _findings_not_tested_again(findings: list[dict], warned: list[str]) -> list[str]:
    """Open data-quality findings whose test did not run in this refresh (its model was left as it
    was): still true of the data, so still said."""
    return [f"check {f['model']}:{f['check']} did not pass: {f['rows']} failing row(s) when last run; open since "
            f"{f['since']} UTC, not run again (its model's inputs did not change)"
            for f in findings if not any(f":{f['check']} did not pass" in line for line in warned)]


def summarize(result: dg.ExecuteInProcessResult, settings: Settings, elapsed: float) -> RefreshResult:
    materializations = result.get_asset_materialization_events()
    by_key = {event.asset_key: event for event in materializations}
    evaluations = result.get_asset_check_evaluations()
    summary = [_ingest_line(materializations)]
    loaded_any = any(_metadata(e)["files_loaded"] for e in materializations if e.asset_key in INGEST_KEYS)
    warnings = [] if loaded_any or not any(e.asset_key in INGEST_KEYS for e in materializations) else [
        f"no new extracts in {settings.source_dir}; the mart is built from the extracts loaded before"]
    if MATCH_RATE_HISTORY_KEY in by_key:
        meta = _metadata(by_key[MATCH_RATE_HISTORY_KEY])
        rates = ", ".join(
            f"{source} {meta[f'{source}.matched']}/{meta[f'{source}.records']}"
            for source in sorted({key.split('.')[0] for key in meta})
        )
        summary.append(f"identity: matched {rates}")
    models = [_metadata(e).get("status") for e in materializations
              if e.asset_key.path[0] in DBT_GROUPS and e.asset_key != MATCH_RATE_HISTORY_KEY]
    unchanged = models.count(UNCHANGED)
    passed = sum(1 for e in evaluations if e.passed)
    warned = sum(1 for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.WARN)
    failed = sum(1 for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR)
    summary.append(f"dbt: {len(models) - unchanged} model(s) built"
                   + (f", {unchanged} left as they were (their inputs did not change)" if unchanged else "")
                   + f"; checks: {passed} passed, {warned} warned, {failed} failed")
    if CUSTOMER_VALUE_SCORES_KEY in by_key:
        summary.append(_value_line(_metadata(by_key[CUSTOMER_VALUE_SCORES_KEY])))
    warnings += _check_lines(result, dg.AssetCheckSeverity.WARN)
    as_of = None
    if PUBLISHED_MART_KEY in by_key:
        meta = _metadata(by_key[PUBLISHED_MART_KEY])
        as_of = meta["as_of_date"]
        warnings += _findings_not_tested_again(meta.get("open_findings") or [], warnings)
        counts = ", ".join(f"{name.split('.', 2)[2]} {rows}" for name, rows in sorted(meta.items())
                           if name.startswith("rows.marts."))
        summary.append(f"published {settings.warehouse} as of {as_of} in {elapsed:.1f} s "
                       f"(run {result.run_id}): {counts}" + ("; personal data masked" if meta.get("pii") == "masked"
                                                             else ""))
        if REP_MARTS_KEY in by_key:
            reps = _metadata(by_key[REP_MARTS_KEY])
            summary.append(
                f"rep marts: {reps['rep_files']} file(s) in {reps['path']} ({reps['customers_in_rep_files']} "
                f"customer(s); {reps['customers_without_rep']} without a rep)"
                + (f"; removed {reps['removed_rep_files']} of reps without customers" if reps["removed_rep_files"]
                   else "")
            )
            if reps.get("warning"):
                warnings.append(reps["warning"])
        if DASHBOARD_KEY in by_key:
            summary.append(f"dashboard: {_metadata(by_key[DASHBOARD_KEY])['path']}")
        if result.success:
            return RefreshResult(PUBLISHED, result.run_id, as_of, summary, warnings)
        # The mart is published, but a step built from it (rep files, dashboard) failed: say both, and fail.
        not_rebuilt = [name for key, name in ((REP_MARTS_KEY, "rep files"), (DASHBOARD_KEY, "dashboard"))
                       if key not in by_key] or ["a step after the publish"]
        summary.append(f"{' and '.join(not_rebuilt)} NOT rebuilt: the refresh failed after publishing "
                       f"{settings.warehouse} (run {result.run_id}); the previous ones are unchanged")
        failures = _step_failures(result) + _check_lines(result, dg.AssetCheckSeverity.ERROR)
        return RefreshResult(NOT_PUBLISHED, result.run_id, as_of, summary, warnings, failures)
    summary.append(f"NOT published: the refresh failed after {elapsed:.1f} s (run {result.run_id}); "
                   f"{settings.warehouse} is unchanged")
    failures = _step_failures(result) + _check_lines(result, dg.AssetCheckSeverity.ERROR)
    return RefreshResult(NOT_PUBLISHED, result.run_id, None, summary, warnings, failures)
