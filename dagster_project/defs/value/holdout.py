"""Holdout validation of the purchase model (`c360 validate-value`).

Fit on the purchase dates up to D − holdout days, predict each of those customers' purchase dates
in (D − holdout, D], and compare with what they did, beside a naive baseline: each customer keeps
their past repeat-purchase rate (frequency ÷ T per day; 0 for a customer first seen on the cut-off
date). Customers whose first purchase falls inside the holdout are not in the comparison (neither
model knew them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from .histories import as_of_date, purchase_histories, purchases_between
from .model import Fit, expected_purchases, fit_models

# past-frequency buckets of the calibration table: (label, least, most)
FREQUENCY_BUCKETS = (("0", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3-4", 3, 4), ("5-9", 5, 9), ("10+", 10, None))


@dataclass(frozen=True)
class HoldoutReport:
    as_of: dt.date
    cutoff: dt.date
    holdout_days: int
    fit: Fit
    customers: int
    actual_total: float
    predicted_total: float
    naive_total: float
    mae_model: float
    mae_naive: float
    calibration: pd.DataFrame  # bucket, customers, actual_mean, predicted_mean, naive_mean

    @property
    def total_error(self) -> float:
        """(predicted − actual) ÷ actual total purchases."""
        return (self.predicted_total - self.actual_total) / self.actual_total if self.actual_total else float("nan")

    def lines(self) -> list[str]:
        out = [
            f"holdout: fitted on purchases up to {self.cutoff} ({self.fit.method}, {self.fit.purchasers} purchaser(s)), "
            f"predicted ({self.cutoff}, {self.as_of}] ({self.holdout_days} days) for {self.customers} customer(s)",
        ]
        if not self.fit.usable:
            return out + [f"the fit failed: {self.fit.message}"]
        out += [
            "                        model     naive",
            f"MAE per customer   {self.mae_model:10.3f} {self.mae_naive:9.3f}",
            f"total purchases    {self.predicted_total:10.1f} {self.naive_total:9.1f}   actual {self.actual_total:.0f} "
            f"(model {self.total_error:+.1%})",
            "calibration by past repeat purchases (frequency up to the cut-off): mean purchases per customer",
            "frequency  customers    actual     model     naive",
        ]
        for row in self.calibration.itertuples():
            out.append(f"{row.bucket:>9} {row.customers:10d} {row.actual_mean:9.3f} {row.predicted_mean:9.3f} "
                       f"{row.naive_mean:9.3f}")
        return out


@dataclass(frozen=True)
class HoldoutData:
    as_of: dt.date
    cutoff: dt.date
    histories: pd.DataFrame  # purchase_histories up to the cut-off
    actual: pd.DataFrame  # customer_id, actual: purchase dates in (cut-off, D]

    def sample(self, limit: int) -> HoldoutData:
        """At most `limit` of the cut-off's purchasers, the same ones every time: those with the
        smallest hash of customer_id (pandas' fixed-key hash), whatever the order of the rows."""
        if len(self.histories) <= limit:
            return self
        hashes = pd.util.hash_pandas_object(self.histories["customer_id"], index=False).to_numpy()
        chosen = self.histories.iloc[np.sort(np.argsort(hashes, kind="stable")[:limit])]
        actual = self.actual[self.actual["customer_id"].isin(chosen["customer_id"])]
        return HoldoutData(self.as_of, self.cutoff, chosen.reset_index(drop=True), actual.reset_index(drop=True))


def read_holdout_data(con: duckdb.DuckDBPyConnection, holdout_days: int) -> HoldoutData:
    as_of = as_of_date(con)
    cutoff = as_of - dt.timedelta(days=holdout_days)
    return HoldoutData(as_of, cutoff, purchase_histories(con, cutoff), purchases_between(con, cutoff, as_of))


def run_holdout(data: HoldoutData, *, method: str = "map", min_purchasers: int = 2) -> HoldoutReport:
    holdout_days = (data.as_of - data.cutoff).days
    histories = data.histories
    frame = histories.merge(data.actual, on="customer_id", how="left").fillna({"actual": 0})
    fit = fit_models(histories, data.cutoff, method=method, min_purchasers=min_purchasers)
    frequency, recency, age = (frame[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    if fit.usable:
        frame["predicted"] = expected_purchases(fit.parameters, frequency, recency, age, holdout_days)
    else:
        frame["predicted"] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["naive"] = np.where(age > 0, frequency / age, 0.0) * holdout_days
    frame["actual"] = frame["actual"].astype(float)
    return HoldoutReport(
        as_of=data.as_of, cutoff=data.cutoff, holdout_days=holdout_days, fit=fit, customers=len(frame),
        actual_total=float(frame["actual"].sum()), predicted_total=float(frame["predicted"].sum()),
        naive_total=float(frame["naive"].sum()),
        mae_model=float((frame["predicted"] - frame["actual"]).abs().mean()),
        mae_naive=float((frame["naive"] - frame["actual"]).abs().mean()),
        calibration=calibration_table(frame),
    )


def calibration_table(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for label, least, most in FREQUENCY_BUCKETS:
        inside = frame[(frame["frequency"] >= least) & ((frame["frequency"] <= most) if most is not None else True)]
        if inside.empty:
            continue
        rows.append({"bucket": label, "customers": len(inside), "actual_mean": inside["actual"].mean(),
                     "predicted_mean": inside["predicted"].mean(), "naive_mean": inside["naive"].mean()})
    return pd.DataFrame(rows, columns=["bucket", "customers", "actual_mean", "predicted_mean", "naive_mean"])
