"""What the customer-value models read and keep in the working file.

Purchase histories are summarised from dbt's int_purchases_aggregated_to_customer_dates (one row
per purchaser and purchase date, the purchases customer_360 counts), for any cut-off date: D for
the daily scores, D − holdout days for `c360 validate-value`. Fits are kept in
ops.customer_value_fits, scores written to value.customer_value_scores (a dbt source).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from ...warehouse import sql_literal
from .model import BGNBD_PARAMETERS, GAMMA_GAMMA_PARAMETERS, Fit

PURCHASE_DATES = "intermediate.int_purchases_aggregated_to_customer_dates"
AS_OF = "intermediate.int_as_of_date_resolved"
FITS = "ops.customer_value_fits"
CALIBRATION = "ops.customer_value_calibration"
SCORES = "value.customer_value_scores"

FITS_DDL = f"""
create table if not exists {FITS} (
    fit_id varchar primary key,
    history_as_of date not null,
    fitted_at timestamptz not null,
    method varchar not null,
    status varchar not null,
    purchasers bigint not null,
    repeat_purchasers bigint not null,
    converged boolean not null,
    seconds double not null,
    message varchar not null,
    {", ".join(f"{name} double" for name in (*BGNBD_PARAMETERS, *GAMMA_GAMMA_PARAMETERS))}
)
"""
FITS_COMMENTS = {
    None: "Every fit of the customer-value models (BG/NBD and Gamma-Gamma, PyMC-Marketing): the "
          "latest with status ok and history_as_of on or before D scores marts.customer_value.",
    "history_as_of": "The fit saw the purchases dated up to this date (the D of its refresh).",
    "status": "ok, or failed (message says why; the previous fit stays in use).",
    "purchasers": "Purchasers in the BG/NBD sample.",
    "repeat_purchasers": "Repeat purchasers with a positive mean repeat margin (the Gamma-Gamma sample).",
    "converged": "The optimum is valid: finite positive parameters, q > 1, finite predictions (mcmc: R-hat < 1.01).",
}


def as_of_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    return con.execute(f"select as_of_date from {AS_OF}").fetchone()[0]


def purchase_histories(con: duckdb.DuckDBPyConnection, cutoff: dt.date) -> pd.DataFrame:
    """One row per customer with a purchase on or before `cutoff`: frequency (purchase dates − 1),
    recency (last − first date, days), T (cutoff − first date, days), monetary_value (mean margin
    of the repeat purchase dates; null without one), ordered by customer_id."""
    return con.execute(
        f"""
        with dated as (
            select
                customer_id,
                purchase_date,
                margin,
                row_number() over (partition by customer_id order by purchase_date) as sequence
            from {PURCHASE_DATES}
            where purchase_date <= $cutoff
        )
        select
            customer_id,
            count(*) - 1 as frequency,
            date_diff('day', min(purchase_date), max(purchase_date)) as recency,
            date_diff('day', min(purchase_date), $cutoff) as "T",
            avg(case when sequence > 1 then margin end)::double as monetary_value
        from dated
        group by customer_id
        order by customer_id
        """,
        {"cutoff": cutoff},
    ).df()


def purchases_between(con: duckdb.DuckDBPyConnection, after: dt.date, through: dt.date) -> pd.DataFrame:
    """customer_id, purchase dates in (after, through]: the holdout's actual transactions."""
    return con.execute(
        f"""
        select customer_id, count(*) as actual
        from {PURCHASE_DATES}
        where purchase_date > $after and purchase_date <= $through
        group by customer_id
        """,
        {"after": after, "through": through},
    ).df()


CALIBRATION_DDL = f"""
create table if not exists {CALIBRATION} (
    fit_id varchar not null,
    history_as_of date not null,
    cutoff date not null,
    holdout_days integer not null,
    sample_customers bigint not null,
    mae_model double not null,
    mae_naive double not null,
    actual_total double not null,
    predicted_total double not null,
    naive_total double not null,
    bucket_order integer not null,
    bucket varchar not null,
    customers bigint not null,
    actual_mean double not null,
    predicted_mean double not null,
    naive_mean double not null,
    primary key (fit_id, bucket)
)
"""
CALIBRATION_COMMENTS = {
    None: "Holdout calibration of each refit (C360_CLV_HOLDOUT_DAYS): the models fitted again on the purchases "
          "up to cutoff = history_as_of - holdout_days, on a fixed sample of those purchasers, predicting "
          "their purchase dates in (cutoff, history_as_of]; one row per past-frequency bucket, beside a naive "
          "baseline (each customer repeats their past purchase rate). The dashboard draws the rows of the fit in use.",
    "fit_id": "The refit (ops.customer_value_fits) this calibration accompanies.",
    "sample_customers": "Purchasers up to the cut-off in the comparison (at most CALIBRATION_SAMPLE, chosen by a hash "
                        "of customer_id, so the same customers every time).",
    "mae_model": "Mean absolute error per customer of the model's predicted purchases in the holdout.",
    "mae_naive": "The same for the naive baseline.",
    "bucket": "Past repeat purchases up to the cut-off (frequency): 0, 1, 2, 3-4, 5-9, 10+.",
    "actual_mean": "Mean purchase dates per customer of the bucket in the holdout, as they happened.",
    "predicted_mean": "The model's mean predicted purchases per customer of the bucket.",
    "naive_mean": "The naive baseline's mean per customer of the bucket.",
}


def ensure_fits_table(con: duckdb.DuckDBPyConnection) -> None:
    """ops.customer_value_fits and ops.customer_value_calibration, with their comments."""
    con.execute("create schema if not exists ops")
    for table, ddl, comments in ((FITS, FITS_DDL, FITS_COMMENTS), (CALIBRATION, CALIBRATION_DDL, CALIBRATION_COMMENTS)):
        con.execute(ddl)
        con.execute(f"comment on table {table} is {sql_literal(comments[None])}")
        for column, text in comments.items():
            if column:
                con.execute(f"comment on column {table}.{column} is {sql_literal(text)}")



def record_calibration(con: duckdb.DuckDBPyConnection, fit_id: str, history_as_of: dt.date, report) -> int:
    """Keep a holdout report (holdout.HoldoutReport) as the calibration of fit `fit_id`; a refit
    that found the same fit again replaces its rows. Returns the rows written."""
    rows = [
        [fit_id, history_as_of, report.cutoff, report.holdout_days, report.customers, report.mae_model,
         report.mae_naive, report.actual_total, report.predicted_total, report.naive_total, order, row.bucket,
         int(row.customers), float(row.actual_mean), float(row.predicted_mean), float(row.naive_mean)]
        for order, row in enumerate(report.calibration.itertuples())
    ]
    con.execute(f"delete from {CALIBRATION} where fit_id = ?", [fit_id])
    if rows:
        con.executemany(f"insert into {CALIBRATION} values ({', '.join('?' for _ in rows[0])})", rows)
    return len(rows)


def record_fit(con: duckdb.DuckDBPyConnection, fit: Fit) -> None:
    """Keep the attempt; a refit that found the same fit again (same id) replaces its row."""
    row = fit.row()
    con.execute(
        f"insert or replace into {FITS} ({', '.join(row)}) values ({', '.join('?' for _ in row)})", list(row.values())
    )


def usable_fit(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Fit | None:
    """The latest fit with status ok whose history ends on or before D (a fit never sees
    purchases after the date it scores); None when there is none."""
    frame = con.execute(
        f"select * from {FITS} where status = 'ok' and history_as_of <= ? "
        "order by history_as_of desc, fitted_at desc, fit_id limit 1",
        [as_of],
    ).df()
    if frame.empty:
        return None
    row = {k: (None if pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}
    row["history_as_of"] = pd.Timestamp(row["history_as_of"]).date()
    row["fitted_at"] = pd.Timestamp(row["fitted_at"]).to_pydatetime()
    row["converged"] = bool(row["converged"])
    row["purchasers"], row["repeat_purchasers"] = int(row["purchasers"]), int(row["repeat_purchasers"])
    return Fit.from_row(row)


def write_scores(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame, fit_id: str | None) -> None:
    """Replace value.customer_value_scores (in the caller's transaction)."""
    con.execute("create schema if not exists value")
    frame = scores.assign(fit_id=fit_id)[
        ["customer_id", "fit_id", "probability_alive", "expected_purchases_365d",
         "expected_margin_per_purchase", "expected_margin_365d"]
    ]
    con.register("new_customer_value_scores", frame)
    try:
        con.execute(
            f"""
            create or replace table {SCORES} as
            select
                customer_id::varchar as customer_id,
                fit_id::varchar as fit_id,
                probability_alive::double as probability_alive,
                expected_purchases_365d::double as expected_purchases_365d,
                expected_margin_per_purchase::double as expected_margin_per_purchase,
                expected_margin_365d::double as expected_margin_365d
            from new_customer_value_scores
            """
        )
    finally:
        con.unregister("new_customer_value_scores")
