"""Where a run's log lines go: every line to the run's log file, the assets' own progress lines
to the operator's terminal, and Dagster's DEBUG lines to the terminal only when asked (-v)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import dagster as dg

FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(message)s")


def _logger(name: str, handler: logging.Handler, level: int) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.setLevel(level)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    return logger


@dg.logger(
    config_schema={"path": dg.Field(str, description="the log file of this run")},
    description="Every line of the run, DEBUG included, to one file.",
)
def file_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    path = Path(init_context.logger_config["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(FORMAT)
    return _logger(f"c360.file.{init_context.run_id}", handler, logging.DEBUG)


# The dbt step logs every line dbt prints; of those, the terminal shows only the step's own lines,
# which start with this (dbt's own lines are in the log file and, with -v, on the terminal).
DBT_PROGRESS_PREFIX = "dbt build:"


class _OwnMessagesOnly(logging.Filter):
    """Lines the assets log themselves (no Dagster event attached), INFO and above."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        if meta.get("dagster_event") is not None or record.levelno < logging.INFO:
            return False
        message = str(meta.get("orig_message", record.getMessage()))
        if "dbt" in str(meta.get("step_key", "")) and not message.startswith(DBT_PROGRESS_PREFIX):
            return False
        record.msg, record.args = f"c360:   {message}", ()
        return True


@dg.logger(description="The assets' own progress lines (files loaded, rows, match rates) to stderr.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_OwnMessagesOnly())
    return _logger(f"c360.progress.{init_context.run_id}", handler, logging.INFO)


LOGGERS = {"file": file_logger, "progress": progress_logger, "console": dg.colored_console_logger}


def run_logging_config(log_file: Path, *, verbose: bool) -> dict:
    """The `loggers` run config of a `c360 refresh`: the file always; the terminal gets every
    Dagster line with -v, else only the assets' progress lines."""
    loggers: dict = {"file": {"config": {"path": str(log_file)}}}
    if verbose:
        loggers["console"] = {"config": {"log_level": "DEBUG"}}
    else:
        loggers["progress"] = {}
    return {"loggers": loggers}


def close_run_loggers(run_id: str) -> None:
    """Close the file and terminal handlers of a finished run (a backfill runs hundreds in one
    process: each would otherwise keep its log file open)."""
    for name in (f"c360.file.{run_id}", f"c360.progress.{run_id}"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()


# When a refresh leaves a dbt model as it was (its inputs did not change, defs/dbt/build_inputs.py),
# its tests do not run again, and Dagster notes on standard error, for every downstream step,
# each blocking check of it that "emitted no result". That is the expected case, not news: the
# notes are dropped. The logger is Dagster's module logger (not public API): the test
# tests/test_demo.py::test_a_refresh_with_no_new_extracts_builds_nothing_and_publishes_the_same_mart
# fails when the notes reach the refresh's output again.
MISSING_CHECK_RESULT_LOGGER = "dagster._core.execution.plan.active"
MISSING_CHECK_RESULT_NOTE = "Blocking asset check "


class _NoMissingCheckResultNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(MISSING_CHECK_RESULT_NOTE)


def quiet_missing_check_result_notes() -> None:
    logger = logging.getLogger(MISSING_CHECK_RESULT_LOGGER)
    if not any(isinstance(f, _NoMissingCheckResultNotes) for f in logger.filters):
        logger.addFilter(_NoMissingCheckResultNotes())
