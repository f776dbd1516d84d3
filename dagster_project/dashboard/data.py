"""The dashboard's numbers: one function per figure, from the PUBLISHED mart (read-only) and,
where a number is a metric of the semantic layer, from MetricFlow (semantic.py).

A ratio is computed here from its parts summed over the period it covers (NPS over 12 months =
(promoters - detractors) / responses of those months, never an average of monthly NPS), and it
carries its sample size (`Ratio.denominator`), which the page shows beside it.

Read through the semantic layer (`SemanticNumbers`, three `mf query` runs, see semantic.py), so
the page and `c360 metrics` cannot disagree:
- tiles: `customers`, `purchasers`, customers at churn risk (`customers` where
  customer__churn_risk = 'overdue'), NPS over the 12 months ending with D's month (the parts of
  `nps` summed over those months of metric_time), `retention_rate` of the last full year
  (retention_by_year__tier = 'all', from retained_customers / prior_year_active);
- charts: retention by tier and year (`repeat_rate_3plus`, `retention_rate` from their parts),
  monthly revenue with new, churned and reactivated customers, the NPS and CSAT trend.

Read from the mart tables, because they are not metrics of the semantic layer:
- revenue of the last 12 months: the tile is net revenue of the 365 days ending on D (a sum of
  customer_360.net_revenue_12m); the semantic `revenue` is by calendar month of kpi_monthly, which
  equals that window only when D is a month's last day;
- active customers of a month (the monthly revenue chart's hover): a count of distinct customers,
  which does not add up over months, so it is no semantic metric;
- the cohort heatmap, repeat purchase by latest CSAT, share of wallet by tier, category affinity,
  life-cycle counts, the revenue Pareto curve and the call list: per-customer distributions or
  tables that no semantic metric carries.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .semantic import SemanticNumbers

TIERS = ("standard", "gold")
LIFECYCLE_STAGES = ("prospect", "growth", "mature", "declining", "churned")
CSAT_VALUES = (1, 2, 3, 4, 5)


@contextmanager
def published(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published file, opened read-only as any BI tool opens it (timestamps read in UTC)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator, with the denominator shown as the sample size; None when 0."""

    numerator: float
    denominator: int
    scale: float = 1.0  # 100 for percentages and NPS

    @property
    def value(self) -> float | None:
        return None if not self.denominator else self.scale * self.numerator / self.denominator


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# ---------------------------------------------------------------- the page's stamp


@dataclass(frozen=True)
class Stamp:
    as_of_date: dt.date
    refreshed_at: dt.datetime  # UTC
    run_id: str
    code_version: str


def stamp(con: duckdb.DuckDBPyConnection) -> Stamp:
    as_of, refreshed, run_id, code = con.execute(
        "select as_of_date, refreshed_at, run_id, code_version from ops.publish_info"
    ).fetchone()
    return Stamp(as_of, refreshed, run_id, code)


# ---------------------------------------------------------------- headline tiles


@dataclass(frozen=True)
class Headline:
    customers: int
    purchasers: int
    revenue_12m: float  # net revenue in the 365 days ending on D
    nps_12m: Ratio  # (promoters - detractors) / responses over the 12 months ending with D's month
    nps_first_month: dt.date | None
    nps_last_month: dt.date | None
    retention_year: int | None  # the last full calendar year
    retention: Ratio  # retained / prior-year active customers of that year, all tiers
    at_churn_risk: int  # churn_risk = overdue (not churned yet)
    churned: int


def _metric_revenue_12m(con) -> float:
    """Not a semantic metric (see the module's note): the 365 days ending on D, from customer_360."""
    return float(con.execute(
        "select coalesce(sum(net_revenue_12m), 0) from marts.customer_360").fetchone()[0])


def nps_window(semantic: SemanticNumbers) -> list:
    """The months of the 12 calendar months ending with the last one (D's month)."""
    if not semantic.months:
        return []
    last = semantic.months[-1].month
    first = dt.date(last.year - (1 if last.month < 12 else 0), (last.month % 12) + 1, 1)
    return [m for m in semantic.months if m.month >= first]


def _metric_nps_12m(semantic: SemanticNumbers) -> tuple[Ratio, dt.date | None, dt.date | None]:
    months = nps_window(semantic)
    promoters = sum(m.nps_promoters for m in months)
    detractors = sum(m.nps_detractors for m in months)
    responses = sum(m.nps_responses for m in months)
    first, last = (months[0].month, months[-1].month) if months else (None, None)
    return Ratio(promoters - detractors, responses, 100.0), first, last


def _metric_retention_last_full_year(semantic: SemanticNumbers) -> tuple[int | None, Ratio]:
    full = [y for y in semantic.years if y.tier == "all" and not y.is_partial]
    if not full:
        return None, Ratio(0, 0, 100.0)
    row = max(full, key=lambda y: y.year)
    return row.year, Ratio(row.retained_customers, row.prior_year_active, 100.0)


def headline(con: duckdb.DuckDBPyConnection, semantic: SemanticNumbers) -> Headline:
    nps, first, last = _metric_nps_12m(semantic)
    year, retention = _metric_retention_last_full_year(semantic)
    return Headline(semantic.customers, semantic.purchasers, _metric_revenue_12m(con), nps, first, last, year,
                    retention, semantic.customers_with_churn_risk("overdue"),
                    semantic.customers_with_churn_risk("churned"))


# ---------------------------------------------------------------- one function per figure


@dataclass(frozen=True)
class TierYear:
    year: int
    tier: str
    is_partial: bool
    repeat_3plus: Ratio  # customers_3plus / active_customers
    retention: Ratio  # retained_customers / prior_year_active


def retention_by_tier(semantic: SemanticNumbers) -> list[TierYear]:
    """repeat_rate_3plus and retention_rate by year, standard then gold, from their parts."""
    rank = {tier: i for i, tier in enumerate(TIERS)}
    rows = sorted((y for y in semantic.years if y.tier in rank), key=lambda y: (y.year, rank[y.tier]))
    return [TierYear(y.year, y.tier, y.is_partial, Ratio(y.customers_3plus, y.year_active_customers, 100.0),
                     Ratio(y.retained_customers, y.prior_year_active, 100.0)) for y in rows]


@dataclass(frozen=True)
class CohortCell:
    cohort_month: dt.date
    months_since_first: int
    cohort_size: int
    active: Ratio  # active_customers / cohort_size


def cohort_retention(con: duckdb.DuckDBPyConnection) -> list[CohortCell]:
    rows = _rows(con, """
        select cohort_month, months_since_first, cohort_size, active_customers
        from marts.cohort_retention where cohort_size > 0 order by cohort_month, months_since_first
    """)
    return [CohortCell(r["cohort_month"], r["months_since_first"], r["cohort_size"],
                       Ratio(r["active_customers"], r["cohort_size"], 100.0)) for r in rows]


@dataclass(frozen=True)
class RevenueMonth:
    month: dt.date
    is_partial: bool
    revenue: float
    new: int
    churned: int
    reactivated: int
    active: int


def monthly_revenue(con: duckdb.DuckDBPyConnection, semantic: SemanticNumbers) -> list[RevenueMonth]:
    """The semantic layer's revenue, new, churned and reactivated customers by month; the month's
    active customers (no semantic metric: distinct customers do not add up) from kpi_monthly."""
    active = dict(con.execute("select month, active_customers from marts.kpi_monthly").fetchall())
    return [RevenueMonth(m.month, m.is_partial, m.revenue, m.new_customers, m.churned_customers,
                         m.reactivated_customers, active.get(m.month) or 0) for m in semantic.months]


@dataclass(frozen=True)
class SatisfactionMonth:
    month: dt.date
    nps: Ratio  # promoters - detractors over responses with an nps
    csat_top2: Ratio  # csat >= 4 over responses with a csat
    csat_5: Ratio  # csat = 5 over responses with a csat


def satisfaction_trend(semantic: SemanticNumbers) -> list[SatisfactionMonth]:
    """nps, csat_top2_pct and completely_satisfied_pct by month, from the semantic layer's parts."""
    return [SatisfactionMonth(
        m.month,
        Ratio(m.nps_promoters - m.nps_detractors, m.nps_responses, 100.0),
        Ratio(m.csat_top2_responses, m.csat_responses, 100.0),
        Ratio(m.csat_5_responses, m.csat_responses, 100.0),
    ) for m in semantic.months]


@dataclass(frozen=True)
class RepeatGroup:
    label: str  # "CSAT 1" ... "CSAT 5", "no CSAT"
    repeat: Ratio  # purchasers with 3+ purchases in the 365 days to D / purchasers in the group


def repeat_by_csat(con: duckdb.DuckDBPyConnection) -> list[RepeatGroup]:
    """Repeat purchase (3 or more purchases in the 365 days to D, as repeat_rate_3plus counts a
    year) among purchasers, by their latest CSAT answer."""
    found = {r["latest_csat"]: r for r in _rows(con, """
        select latest_csat, count(*) as purchasers, count(*) filter (where purchases_12m >= 3) as repeaters
        from marts.customer_360 where purchases_lifetime > 0 group by latest_csat
    """)}
    groups = []
    for value in (*CSAT_VALUES, None):
        r = found.get(value, {"purchasers": 0, "repeaters": 0})
        groups.append(RepeatGroup("no CSAT" if value is None else f"CSAT {value}",
                                  Ratio(r["repeaters"], r["purchasers"], 100.0)))
    return groups


POINTS_SHOWN_UP_TO = 1000  # customers per tier drawn as dots; above, the box from its quartiles alone


@dataclass(frozen=True)
class WalletShares:
    """Share of wallet (0-1) of one tier's customers who have one."""

    customers: int
    q1: float | None
    median: float | None
    q3: float | None
    low: float | None
    high: float | None
    mean: float | None
    values: list[float] | None  # every value when customers <= POINTS_SHOWN_UP_TO


def share_of_wallet_by_tier(con: duckdb.DuckDBPyConnection) -> dict[str, WalletShares]:
    """Customers' share_of_wallet by tier (customers without one are not in it): quartiles from
    DuckDB, and the values themselves where few enough to draw each."""
    stats = {r["tier"]: r for r in _rows(con, """
        select coalesce(tier, 'no tier') as tier, count(*) as n,
               quantile_cont(share_of_wallet, 0.25) as q1, quantile_cont(share_of_wallet, 0.5) as median,
               quantile_cont(share_of_wallet, 0.75) as q3, min(share_of_wallet) as low,
               max(share_of_wallet) as high, avg(share_of_wallet) as mean
        from marts.customer_360 where share_of_wallet is not null group by 1
    """)}
    found = {}
    for tier in (*TIERS, *sorted(set(stats) - set(TIERS))):
        r = stats.get(tier, {"n": 0, "q1": None, "median": None, "q3": None, "low": None, "high": None, "mean": None})
        values = None
        if r["n"] <= POINTS_SHOWN_UP_TO:
            values = [v for (v,) in con.execute(
                "select share_of_wallet from marts.customer_360 where share_of_wallet is not null "
                "and coalesce(tier, 'no tier') = ? order by share_of_wallet", [tier]).fetchall()]
        found[tier] = WalletShares(r["n"], r["q1"], r["median"], r["q3"], r["low"], r["high"], r["mean"], values)
    return found


@dataclass(frozen=True)
class AffinityPair:
    category_a: str
    category_b: str  # a < b: lift is symmetric, so each unordered pair once
    lift: float
    customers_both: int
    confidence_a_to_b: Ratio  # customers_both / customers_a
    confidence_b_to_a: Ratio  # customers_both / customers_b


def top_affinity_pairs(con: duckdb.DuckDBPyConnection, limit: int = 12) -> list[AffinityPair]:
    rows = _rows(con, """
        select category_a, category_b, lift, customers_both, customers_a, customers_b
        from marts.category_affinity where category_a < category_b
        order by lift desc, customers_both desc, category_a, category_b limit ?
    """, [limit])
    return [AffinityPair(r["category_a"], r["category_b"], r["lift"], r["customers_both"],
                         Ratio(r["customers_both"], r["customers_a"], 100.0),
                         Ratio(r["customers_both"], r["customers_b"], 100.0)) for r in rows]


def lifecycle_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    found = dict(con.execute(
        "select lifecycle_stage, count(*) from marts.customer_360 group by lifecycle_stage").fetchall())
    return {stage: found.get(stage, 0) for stage in LIFECYCLE_STAGES}


PARETO_STEPS = 200  # points of the curve: one per 0.5% of purchasers, whatever their number


@dataclass(frozen=True)
class Pareto:
    purchasers: int
    revenue_12m: float  # of all purchasers
    curve: list[tuple[int, float]]  # (top k purchasers by 12-month revenue, their revenue), k rising to all
    top_20pct_revenue: float  # of the is_top_20pct purchasers
    top_20pct_customers: int

    @property
    def top_20pct_share(self) -> float | None:
        return None if not self.revenue_12m else 100.0 * self.top_20pct_revenue / self.revenue_12m


def revenue_pareto(con: duckdb.DuckDBPyConnection) -> Pareto:
    """Purchasers ranked by 12-month revenue (ties: customer_id), the running sum sampled at about
    PARETO_STEPS points, so the page stays small at a million customers."""
    curve = [(k, float(v)) for k, v in con.execute("""
        with ranked as (
            select row_number() over (order by net_revenue_12m desc nulls last, customer_id) as k,
                   sum(coalesce(net_revenue_12m, 0)) over (
                       order by net_revenue_12m desc nulls last, customer_id rows unbounded preceding) as running,
                   count(*) over () as n
            from marts.customer_360 where purchases_lifetime > 0
        )
        select k, running from ranked
        where k = n or floor(? * k / n) > floor(? * (k - 1) / n) order by k
    """, [PARETO_STEPS, PARETO_STEPS]).fetchall()]
    purchasers, total = con.execute(
        "select count(*), coalesce(sum(net_revenue_12m), 0) from marts.customer_360 where purchases_lifetime > 0"
    ).fetchone()
    top, count = con.execute(
        "select coalesce(sum(net_revenue_12m), 0), count(*) from marts.customer_360 where is_top_20pct"
    ).fetchone()
    return Pareto(purchasers, float(total), curve, float(top), count)


def customers_to_call(con: duckdb.DuckDBPyConnection, limit: int = 15) -> tuple[int, list[dict]]:
    """(customers at churn risk, the `limit` of them with the most 12-month revenue)."""
    total = con.execute("select count(*) from marts.customer_360 where churn_risk = 'overdue'").fetchone()[0]
    rows = _rows(con, """
        select customer_id, name, tier, region, net_revenue_12m, last_purchase_date, days_since_last_purchase,
               expected_next_purchase_date, open_tickets, next_best_category, latest_nps, latest_csat
        from marts.customer_360 where churn_risk = 'overdue'
        order by net_revenue_12m desc nulls last, customer_id limit ?
    """, [limit])
    return total, rows


VALUE_SEGMENTS = ("top", "middle", "bottom", "prospect")


@dataclass(frozen=True)
class ValueSegment:
    segment: str  # top | middle | bottom | prospect | "not scored" (a purchaser without a usable fit)
    customers: int
    value_365d: float | None  # sum of customer_value_365d (None for prospects and unscored purchasers)
    margin_365d: float | None
    service_cost_365d: float | None
    referral_value_365d: float | None
    expected_purchases_365d: float | None


def value_segments(con: duckdb.DuckDBPyConnection) -> list[ValueSegment]:
    """marts.customer_value by value_segment, in the order top, middle, bottom, prospect; sums of
    the 365-day columns (a segment's total is what its customers are expected to be worth)."""
    found = {r["segment"]: r for r in _rows(con, """
        select coalesce(value_segment, 'not scored') as segment, count(*) as customers,
               sum(customer_value_365d) as value_365d, sum(expected_margin_365d) as margin_365d,
               sum(expected_service_cost_365d) as service_cost_365d, sum(referral_value_365d) as referral_value_365d,
               sum(expected_purchases_365d) as expected_purchases_365d
        from marts.customer_value group by 1
    """)}
    order = [*VALUE_SEGMENTS, *sorted(set(found) - set(VALUE_SEGMENTS))]
    return [ValueSegment(s, found[s]["customers"], found[s]["value_365d"], found[s]["margin_365d"],
                         found[s]["service_cost_365d"], found[s]["referral_value_365d"],
                         found[s]["expected_purchases_365d"]) for s in order if s in found]


@dataclass(frozen=True)
class Calibration:
    fit_id: str | None  # the fit in use (marts.customer_value.fit_id); None: no usable fit
    cutoff: dt.date | None
    holdout_days: int | None
    customers: int | None
    mae_model: float | None
    mae_naive: float | None
    actual_total: float | None
    predicted_total: float | None
    buckets: list[dict]  # bucket, customers, actual_mean, predicted_mean, naive_mean, in bucket order


def value_calibration(con: duckdb.DuckDBPyConnection) -> Calibration:
    """The holdout calibration kept with the refit whose fit scores the mart (ops.customer_value_calibration);
    no buckets when that refit kept none (C360_CLV_HOLDOUT_DAYS 0, a failed holdout fit) or no fit is in use."""
    fit_ids = [f for (f,) in con.execute(
        "select distinct fit_id from marts.customer_value where fit_id is not null").fetchall()]
    fit_id = fit_ids[0] if fit_ids else None
    kept = con.execute("select count(*) from information_schema.tables where table_schema = 'ops' "
                       "and table_name = 'customer_value_calibration'").fetchone()[0]
    rows = _rows(con, """
        select * from ops.customer_value_calibration where fit_id = ? order by bucket_order
    """, [fit_id]) if fit_id and kept else []
    first = rows[0] if rows else {}
    return Calibration(fit_id, first.get("cutoff"), first.get("holdout_days"), first.get("sample_customers"),
                       first.get("mae_model"), first.get("mae_naive"), first.get("actual_total"),
                       first.get("predicted_total"),
                       [{k: r[k] for k in ("bucket", "customers", "actual_mean", "predicted_mean", "naive_mean")}
                        for r in rows])
