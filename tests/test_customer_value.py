"""Customer value (marts.customer_value): the model's predictions on hand-built histories, the
scores against PyMC-Marketing's own predictive methods, and real refreshes of a generated set:
a row per customer, a hand-computed row from the stored fit, re-scoring without a refit, a fit
that fails, and the holdout check against the naive baseline."""

from __future__ import annotations

import json
import math
import subprocess
import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_project.defs.value.model import (
    expected_margin_per_purchase,
    expected_purchases,
    fit_models,
    probability_alive,
    score,
)

from .conftest import C360, ROOT, query, refresh_env, rows_by, run_refresh

# A plausible MBG/NBD and Gamma-Gamma fit (days), for the hand-built histories.
PARAMETERS = {"r": 0.5, "alpha": 50.0, "a": 0.3, "b": 5.0, "p": 2.0, "q": 4.0, "v": 300.0}


def _histories(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "frequency", "recency", "T", "monetary_value"])


# ---------------------------------------------------------------- hand-built histories


def test_one_purchase_long_ago_is_less_alive_than_regular_recent_buying():
    histories = _histories([
        ("LAPSED", 0, 0, 700, None),  # bought once, 700 days before D
        ("REGULAR", 10, 690, 700, 40.0),  # 11 purchase dates, the last 10 days before D
        ("NEW", 0, 0, 3, None),  # bought once, 3 days ago
    ])
    scored = score(histories, PARAMETERS).set_index("customer_id")
    alive = scored["probability_alive"]
    assert alive["LAPSED"] < alive["REGULAR"]
    assert alive["LAPSED"] < alive["NEW"]
    # by hand, MBG/NBD P(alive) = 1 / (1 + a/(b+x) * ((alpha+T)/(alpha+t_x))^(r+x))
    assert alive["LAPSED"] == pytest.approx(1 / (1 + 0.3 / 5.0 * (750 / 50) ** 0.5), rel=1e-12)  # 0.81167...
    assert alive["REGULAR"] == pytest.approx(1 / (1 + 0.3 / 15.0 * (750 / 740) ** 10.5), rel=1e-12)
    assert scored.loc["REGULAR", "expected_purchases_365d"] > 10 * scored.loc["LAPSED", "expected_purchases_365d"]


def test_expected_margin_per_purchase_by_hand():
    # population mean p*v/(q-1) = 2*300/3 = 200; a customer with x = 3 repeat purchases of mean 80
    # weighs their own mean by p*x/(p*x+q-1) = 6/9: 200/3 + 80*6/9 = 120
    margins = expected_margin_per_purchase(PARAMETERS, [0, 3], [np.nan, 80.0])
    assert margins.tolist() == pytest.approx([200.0, 120.0], rel=1e-12)


def test_expected_purchases_with_no_time_is_zero_and_grows_with_the_horizon():
    x, t_x, T = [2, 0], [100, 0], [300, 300]
    assert expected_purchases(PARAMETERS, x, t_x, T, 0).tolist() == pytest.approx([0.0, 0.0], abs=1e-12)
    short, long = (expected_purchases(PARAMETERS, x, t_x, T, t) for t in (30, 365))
    assert (long > short).all() and (short > 0).all()


def test_discounting_by_twelfths_and_none():
    histories = _histories([("C1", 4, 200, 300, 50.0)])
    plain = score(histories, PARAMETERS).iloc[0]
    assert plain["expected_margin_365d"] == pytest.approx(
        plain["expected_purchases_365d"] * plain["expected_margin_per_purchase"], rel=1e-12)
    discounted = score(histories, PARAMETERS, annual_discount_rate=0.10).iloc[0]
    steps = [expected_purchases(PARAMETERS, 4, 200, 300, 365 * k / 12)[()] for k in range(13)]
    by_hand = sum((steps[k] - steps[k - 1]) / 1.10 ** (k / 12) for k in range(1, 13))
    assert discounted["expected_margin_365d"] == pytest.approx(by_hand * plain["expected_margin_per_purchase"], rel=1e-12)
    assert discounted["expected_margin_365d"] < plain["expected_margin_365d"]


def test_too_few_purchasers_is_a_failed_fit_not_an_error():
    fit = fit_models(_histories([("C1", 1, 10, 20, 5.0), ("C2", 0, 0, 5, None)]), pd.Timestamp("2026-01-01").date(),
                     min_purchasers=50)
    assert fit.status == "failed" and not fit.usable and not fit.parameters
    assert "too few purchasers" in fit.message


def test_scores_equal_pymc_marketings_own_predictions():
    """The daily re-score uses closed forms in numpy; they must give PyMC-Marketing's numbers."""
    rng = np.random.default_rng(3)
    n = 400
    T = rng.integers(30, 700, n)
    frequency = np.where(rng.random(n) < 0.4, 0, rng.poisson(T / 60))
    recency = np.where(frequency > 0, (rng.random(n) * T).astype(int), 0)
    monetary = np.where(frequency > 0, rng.gamma(3.0, 30.0, n), np.nan)
    histories = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "frequency": frequency,
                              "recency": recency, "T": T, "monetary_value": monetary})
    fit = fit_models(histories, pd.Timestamp("2026-01-01").date(), min_purchasers=50)
    assert fit.usable, fit.message
    ours = score(histories, fit.parameters)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymc_marketing.clv import GammaGammaModel, ModifiedBetaGeoModel

        transactions = ModifiedBetaGeoModel()
        transactions.fit(histories[["customer_id", "frequency", "recency", "T"]], method="map", progressbar=False)
        repeat = histories[(histories.frequency > 0) & (histories.monetary_value > 0)]
        spend = GammaGammaModel()
        spend.fit(repeat[["customer_id", "frequency", "monetary_value"]], method="map", progressbar=False)
        data = histories[["customer_id", "frequency", "recency", "T"]]
        theirs_alive = transactions.expected_probability_alive(data).values.ravel()
        theirs_purchases = transactions.expected_purchases(data, future_t=365).values.ravel()
        theirs_margin = spend.expected_customer_spend(
            histories.assign(monetary_value=histories.monetary_value.fillna(0))).values.ravel()
    for name in ("r", "alpha", "a", "b"):
        assert fit.parameters[name] == pytest.approx(float(transactions.fit_result[name].mean()), rel=1e-6)
    np.testing.assert_allclose(ours["probability_alive"], theirs_alive, rtol=1e-9)
    np.testing.assert_allclose(ours["expected_purchases_365d"], theirs_purchases, rtol=1e-9)
    np.testing.assert_allclose(ours["expected_margin_per_purchase"], theirs_margin, rtol=1e-9)


# ---------------------------------------------------------------- real refreshes of a generated set


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small generated set (the demo generator), refreshed once."""
    base = tmp_path_factory.mktemp("value")
    source = base / "src"
    subprocess.run([str(C360), "generate", "--customers", "2000", "--days", "1095", "--seed", "2",
                    "--out", str(source), "--extract-every-days", "60"],
                   check=True, capture_output=True, cwd=ROOT)
    warehouse = base / "wh" / "c360.duckdb"
    first = run_refresh(source, warehouse)
    assert first.returncode == 0, first.output
    return source, warehouse, first


def _value_rows(warehouse) -> dict:
    return rows_by(query(warehouse, "select * from marts.customer_value"), "customer_id")


def test_a_row_per_customer_and_prospects_without_values(generated):
    source, warehouse, first = generated
    assert "customer value: " in first.output and "refitted in" in first.output
    customers = rows_by(query(warehouse, "select customer_id, first_purchase_date from marts.customer_360"),
                        "customer_id")
    values = _value_rows(warehouse)
    assert values.keys() == customers.keys()
    prospects = [c for c, row in customers.items() if row["first_purchase_date"] is None]
    assert prospects
    for customer_id in prospects:
        row = values[customer_id]
        assert row["value_segment"] == "prospect"
        assert all(row[c] is None for c in ("probability_alive", "expected_purchases_365d",
                                            "customer_value_365d", "expected_service_cost_365d"))
    purchasers = [row for c, row in values.items() if c not in prospects]
    segments = pd.Series([row["value_segment"] for row in purchasers]).value_counts()
    n = len(purchasers)
    # ntile(5): the first fifth (rounded up) is top, the last fifth bottom
    assert segments["top"] == math.ceil(n / 5) and segments["bottom"] == n // 5
    assert segments["middle"] == n - segments["top"] - segments["bottom"]
    fits = query(warehouse, "select * from ops.customer_value_fits")
    assert [f["status"] for f in fits] == ["ok"] and fits[0]["purchasers"] == n


def test_a_row_computed_by_hand_from_the_stored_fit(generated):
    source, warehouse, _ = generated
    fit = query(warehouse, "select * from ops.customer_value_fits where status = 'ok'")[0]
    # a repeat purchaser who is a promoter and has tickets: every term of the sum is non-zero
    row = query(warehouse, """
        select c.customer_id, c.tickets_12m, c.nps_group, c.first_purchase_date, c.last_purchase_date
        from marts.customer_360 c
        where c.nps_group = 'promoter' and c.tickets_12m > 0 and c.purchases_lifetime > 1
        order by c.customer_id limit 1
    """)[0]
    work = duckdb.connect(str(warehouse.with_name("c360.work.duckdb")), read_only=True)
    try:
        dates = work.execute(
            "select purchase_date, margin from intermediate.int_purchases_aggregated_to_customer_dates "
            "where customer_id = ? order by purchase_date", [row["customer_id"]]).fetchall()
        as_of = work.execute("select as_of_date from intermediate.int_as_of_date_resolved").fetchone()[0]
    finally:
        work.close()
    x = len(dates) - 1
    t_x = (dates[-1][0] - dates[0][0]).days
    T = (as_of - dates[0][0]).days
    mean_margin = sum(float(m) for _, m in dates[1:]) / x
    r, alpha, a, b, p, q, v = (fit[k] for k in ("r", "alpha", "a", "b", "p", "q", "v"))
    from scipy.special import hyp2f1

    alive = 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    purchases = ((a + b + x) / (a - 1) * (1 - hyp2f1(r + x, b + x + 1, a + b + x, 365 / (alpha + T + 365))
                                          * ((alpha + T) / (alpha + T + 365)) ** (r + x))
                 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)))
    weight = p * x / (p * x + q - 1)
    margin_per_purchase = (1 - weight) * p * v / (q - 1) + weight * mean_margin
    service_cost = row["tickets_12m"] * 20.0  # C360_CLV_COST_PER_TICKET default
    referral = 50.0  # C360_CLV_REFERRAL_VALUE_PER_PROMOTER default, a promoter
    value = _value_rows(warehouse)[row["customer_id"]]
    assert value["probability_alive"] == pytest.approx(alive, rel=1e-9)
    assert value["expected_purchases_365d"] == pytest.approx(purchases, rel=1e-9)
    assert value["expected_margin_per_purchase"] == pytest.approx(margin_per_purchase, rel=1e-9)
    assert value["expected_margin_365d"] == pytest.approx(purchases * margin_per_purchase, rel=1e-9)
    assert value["expected_service_cost_365d"] == service_cost
    assert value["referral_value_365d"] == referral
    assert value["customer_value_365d"] == pytest.approx(
        purchases * margin_per_purchase - service_cost + referral, rel=1e-9)
    assert value["fit_id"] == fit["fit_id"]


def test_rescoring_without_a_refit_is_identical_then_a_failed_fit_keeps_the_last(generated):
    source, warehouse, _ = generated
    before = _value_rows(warehouse)
    fit_before = query(warehouse, "select fit_id from ops.customer_value_fits where status = 'ok'")

    again = run_refresh(source, warehouse)
    assert again.returncode == 0, again.output
    assert "fit re-used" in again.output
    assert _value_rows(warehouse) == before
    assert query(warehouse, "select count(*) as n from ops.customer_value_fits")[0]["n"] == 1

    # a refit forced by --full-refresh, with a minimum sample the set cannot meet: the fit fails
    failed = run_refresh(source, warehouse, "--full-refresh", clv_min_purchasers="100000")
    assert failed.returncode == 0, failed.output  # published all the same
    assert "warning: check value/customer_value_scores:customer_value_fit_in_use did not pass" in failed.output
    assert "the customer-value fit failed (too few purchasers" in failed.output
    fits = rows_by(query(warehouse, "select * from ops.customer_value_fits"), "status")
    assert fits["ok"]["fit_id"] == fit_before[0]["fit_id"]
    assert "too few purchasers" in fits["failed"]["message"]
    assert _value_rows(warehouse) == before  # scored with the fit kept


def test_holdout_beats_the_naive_baseline(generated):
    source, warehouse, _ = generated
    proc = subprocess.run([str(C360), "validate-value", "--holdout-days", "180", "--json"], cwd=ROOT,
                          env=refresh_env(source, warehouse), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["fit"]["status"] == "ok"
    assert report["customers"] > 500
    assert report["mae_model"] <= report["mae_naive"]
    assert abs(report["predicted_total"] - report["actual_total"]) <= 0.15 * report["actual_total"]
    buckets = {row["bucket"]: row for row in report["calibration"]}
    assert sum(row["customers"] for row in buckets.values()) == report["customers"]

    # The refit of the first refresh kept the same holdout (180 days, every purchaser: fewer than the
    # sample size) for the dashboard, under the fit that scores the mart.
    kept = query(warehouse, "select * from ops.customer_value_calibration order by bucket_order")
    assert {row["fit_id"] for row in kept} == {row["fit_id"] for row in _value_rows(warehouse).values()} - {None}
    assert [row["bucket"] for row in kept] == [row["bucket"] for row in report["calibration"]]
    for ours, theirs in zip(kept, report["calibration"]):
        assert ours["customers"] == theirs["customers"]
        for name in ("actual_mean", "predicted_mean", "naive_mean"):
            assert ours[name] == pytest.approx(theirs[name], rel=1e-6), name
    assert kept[0]["sample_customers"] == report["customers"]
    assert kept[0]["mae_model"] == pytest.approx(report["mae_model"], rel=1e-6)
    assert kept[0]["cutoff"].isoformat() == report["cutoff"]


def test_the_calibration_sample_is_the_same_customers_whatever_the_row_order():
    import datetime as dt

    from dagster_project.defs.value.holdout import HoldoutData

    histories = _histories([(f"c{i:02d}", i % 4, i % 4 * 10, 100 + i, 10.0) for i in range(40)])
    actual = pd.DataFrame({"customer_id": histories["customer_id"], "actual": range(40)})
    data = HoldoutData(dt.date(2026, 6, 30), dt.date(2026, 1, 1), histories, actual)
    shuffled = HoldoutData(data.as_of, data.cutoff, histories.sample(frac=1, random_state=3),
                           actual.sample(frac=1, random_state=4))
    chosen = data.sample(12)
    assert len(chosen.histories) == 12
    assert set(chosen.histories["customer_id"]) == set(shuffled.sample(12).histories["customer_id"])
    assert set(chosen.actual["customer_id"]) == set(chosen.histories["customer_id"])
    assert data.sample(40) is data  # no fewer than asked: the whole set
