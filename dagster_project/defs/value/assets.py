"""The customer-value step of the graph: between dbt's intermediate models and marts.customer_value.

Fit once, score daily: every refresh re-scores every purchaser with the latest usable fit; the
models are refitted only when that fit is C360_CLV_REFIT_DAYS older than D, on --full-refresh,
or when there is none. A fit that fails is recorded, warns (the asset check below, and
`c360 refresh`) and leaves the previous fit in use; it never stops the refresh.
"""


import datetime as dt
from dataclasses import dataclass

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from ...settings import Settings
from ...warehouse import work_connection
from ..resources import C360Resource
from .histories import (as_of_date, ensure_fits_table, purchase_histories, record_calibration, record_fit,
                        usable_fit, write_scores)
from .holdout import HoldoutReport, read_holdout_data, run_holdout
from .model import Fit, fit_models, score

CUSTOMER_VALUE_SCORES_KEY = dg.AssetKey(["value", "customer_value_scores"])  # the dbt source's key
FIT_CHECK = "customer_value_fit_in_use"
# The refit's holdout calibration compares at most this many purchasers (a fixed sample): enough
# for the calibration table's buckets, and a second fit of seconds at any number of customers.
CALIBRATION_SAMPLE = 20_000


@dataclass(frozen=True)
class ValueRun:
    as_of: dt.date
    scored: int
    fit: Fit | None  # the fit that scored (None: no usable fit, values null)
    attempt: Fit | None  # the fit attempted in this run, if any
    refit_reason: str = ""
    calibration: HoldoutReport | None = None  # the holdout of this run's refit, if it ran

    @property
    def warning(self) -> str:
        """Why the values are not from a fit made as planned ("" when they are)."""
        if self.attempt is not None and not self.attempt.usable:
            kept = (f"kept fit {self.fit.fit_id} of history up to {self.fit.history_as_of}" if self.fit
                    else "no earlier fit: the value columns of marts.customer_value are null")
            return f"the customer-value fit failed ({self.attempt.message}); {kept}"
        if self.fit is None:
            return "no customer-value fit: the value columns of marts.customer_value are null"
        return ""


def refit_reason(fit: Fit | None, as_of: dt.date, refit_days: int, full_refresh: bool) -> str:
    """Why the models must be fitted again for D ("" when the fit in use stays)."""
    if fit is None:
        return "no usable fit yet"
    if full_refresh:
        return "full refresh"
    age = (as_of - fit.history_as_of).days
    if age >= refit_days:
        return f"the fit in use saw purchases up to {fit.history_as_of}, {age} day(s) before D (C360_CLV_REFIT_DAYS {refit_days})"
    return ""


def refresh_customer_value(settings: Settings, *, full_refresh: bool, log=lambda line: None) -> ValueRun:
    """Fit when due, then score every purchaser as of D into value.customer_value_scores."""
    with work_connection(settings) as con:
        ensure_fits_table(con)
        as_of = as_of_date(con)
        histories = purchase_histories(con, as_of)
        fit = usable_fit(con, as_of)
        reason = refit_reason(fit, as_of, settings.clv_refit_days, full_refresh)
        attempt = calibration = None
        if reason:
            log(f"fitting BG/NBD and Gamma-Gamma ({settings.clv_fit_method}) on {len(histories)} purchaser(s): {reason}")
            attempt = fit_models(histories, as_of, method=settings.clv_fit_method,
                                 min_purchasers=settings.clv_min_purchasers)
            record_fit(con, attempt)
            if attempt.usable:
                fit = attempt
                calibration = calibrate(con, settings, attempt, log)
        scores = (score(histories, fit.parameters, annual_discount_rate=settings.clv_discount_rate)
                  if fit is not None else score_columns_only())
        con.execute("begin")
        write_scores(con, scores, fit.fit_id if fit else None)
        con.execute("commit")
    return ValueRun(as_of=as_of, scored=len(scores), fit=fit, attempt=attempt, refit_reason=reason,
                    calibration=calibration)


def calibrate(con, settings: Settings, fit: Fit, log) -> HoldoutReport | None:
    """The refit's holdout (as `c360 validate-value`, on a fixed sample of at most
    CALIBRATION_SAMPLE purchasers), kept in ops.customer_value_calibration for the dashboard.
    Not run with C360_CLV_HOLDOUT_DAYS 0 or without purchases before the cut-off; a holdout fit that
    fails is logged and keeps nothing (it never touches the fit in use)."""
    if settings.clv_holdout_days == 0:
        return None
    data = read_holdout_data(con, settings.clv_holdout_days)
    if data.histories.empty:
        log(f"calibration: no purchase up to {data.cutoff} (C360_CLV_HOLDOUT_DAYS {settings.clv_holdout_days})")
        return None
    data = data.sample(CALIBRATION_SAMPLE)
    report = run_holdout(data, method="map", min_purchasers=settings.clv_min_purchasers)
    if not report.fit.usable:
        log(f"calibration: the holdout fit up to {data.cutoff} failed ({report.fit.message}); no calibration kept")
        return report
    record_calibration(con, fit.fit_id, fit.history_as_of, report)
    log(f"calibration: {report.customers} purchaser(s) up to {report.cutoff}, purchases in the "
        f"{report.holdout_days} days after: predicted {report.predicted_total:.0f}, actual {report.actual_total:.0f}; "
        f"MAE {report.mae_model:.3f} (naive {report.mae_naive:.3f})")
    return report


def score_columns_only() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in (
        ("customer_id", "object"), ("probability_alive", "float64"), ("expected_purchases_365d", "float64"),
        ("expected_margin_per_purchase", "float64"), ("expected_margin_365d", "float64"))})


def _metadata(run: ValueRun) -> dict:
    metadata: dict = {"as_of_date": str(run.as_of), "customers_scored": run.scored,
                      "refitted": run.attempt is not None and run.attempt.usable,
                      "refit_reason": run.refit_reason or "the fit in use is recent enough"}
    for label, fit in (("fit", run.fit), ("attempt", run.attempt)):
        if fit is None:
            continue
        metadata.update({
            f"{label}.fit_id": fit.fit_id, f"{label}.history_as_of": str(fit.history_as_of),
            f"{label}.status": fit.status, f"{label}.method": fit.method,
            f"{label}.purchasers": fit.purchasers, f"{label}.repeat_purchasers": fit.repeat_purchasers,
            f"{label}.converged": fit.converged, f"{label}.seconds": fit.seconds,
            **{f"{label}.{name}": value for name, value in fit.parameters.items()},
        })
        if fit.message:
            metadata[f"{label}.message"] = fit.message
    report = run.calibration
    if report is not None and report.fit.usable:
        metadata.update({
            "calibration.cutoff": str(report.cutoff), "calibration.customers": report.customers,
            "calibration.mae_model": report.mae_model, "calibration.mae_naive": report.mae_naive,
            "calibration.predicted_total": report.predicted_total, "calibration.actual_total": report.actual_total,
            "calibration.table": dg.MetadataValue.md(_markdown_table(report.calibration)),
        })
    elif report is not None:
        metadata["calibration.message"] = report.fit.message
    if run.warning:
        metadata["warning"] = run.warning
    return metadata


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def build_customer_value_asset(dbt_assets: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """`dbt_assets`: build_dbt_assets' list; the first holds the intermediate models read here."""
    @dg.asset(
        key=CUSTOMER_VALUE_SCORES_KEY,
        group_name="value",
        kinds={"python", "duckdb"},
        deps=[get_asset_key_for_model(dbt_assets[:1], "int_purchases_aggregated_to_customer_dates"),
              get_asset_key_for_model(dbt_assets[:1], "int_as_of_date_resolved")],
        check_specs=[dg.AssetCheckSpec(
            FIT_CHECK, asset=CUSTOMER_VALUE_SCORES_KEY,
            description="Warns when the customer-value fit failed (the previous one stays in use) or none exists.",
        )],
        description=(
            "BG/NBD and Gamma-Gamma (PyMC-Marketing) over each purchaser's purchase dates up to D: "
            "fitted when the fit in use is C360_CLV_REFIT_DAYS old (kept in ops.customer_value_fits), "
            "then every purchaser scored; read by marts.customer_value."
        ),
    )
    def customer_value_scores(context: dg.AssetExecutionContext, c360: C360Resource) -> dg.MaterializeResult:
        run = refresh_customer_value(c360.settings(), full_refresh=c360.full_refresh, log=context.log.info)
        if run.warning:
            context.log.warning(run.warning)
        context.log.info(
            f"customer value: {run.scored} purchaser(s) scored as of {run.as_of}"
            + (f" with fit {run.fit.fit_id} (history up to {run.fit.history_as_of})" if run.fit else "")
        )
        return dg.MaterializeResult(
            metadata=_metadata(run),
            check_results=[dg.AssetCheckResult(
                check_name=FIT_CHECK, passed=not run.warning, severity=dg.AssetCheckSeverity.WARN,
                metadata={"problem": run.warning} if run.warning else {},
            )],
        )

    return customer_value_scores
