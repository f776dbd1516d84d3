"""The dashboard's numbers that are metrics of the semantic layer, read through MetricFlow.

So the page and `c360 metrics` cannot disagree, these come from `mf query` against the published
file (semantic_layer.run_metricflow, the same call `c360 metrics` makes), never from the mart
tables: three queries, one per semantic model, since one query's group-by and filters apply to
all its metrics (customer_360's metric_time is created_at, kpi_monthly's the month,
retention_by_year's the year):

- `customers`, `purchasers` by customer__churn_risk: the tiles customers, purchasers and
  customers at churn risk (`customers` where churn_risk = 'overdue'; 'churned' for its label);
- the kpi_monthly parts by metric_time__month: the monthly revenue chart (revenue, new, churned,
  reactivated customers), the NPS and CSAT trend, and the NPS tile over the 12 months ending with
  D's month from the parts summed over those months (what `mf query --metrics nps --where
  "{{ TimeDimension('metric_time', 'month') }} >= '<first month>'"` computes);
- the retention_by_year parts by metric_time__year and tier: the retention tile (tier `all`, the
  last full year) and the retention-by-tier chart.

Each `mf` run costs a few seconds, mostly MetricFlow's start-up, so the three run side by side.
They write CSV (`--csv`) into a temporary folder, read back here. If one fails, the dashboard
fails with MetricFlow's own words (semantic_layer.SemanticLayerError): the mart is already published.

MetricFlow's answers are kept, addressed by everything they follow from (answers_key): the
semantic manifest `mf` reads, the MetricFlow and dbt versions, the three queries, and the rows of
every table the semantic models and the time spine read in the published file (row count and an
order-free hash of the rows). A refresh that publishes the same mart again (nothing new) draws the
page from the kept answers instead of starting MetricFlow three times; any changed row, metric
definition or version gives another key, so a kept answer is never one MetricFlow would not give.
They live in `<C360_DBT_TARGET_PATH>/semantic_answers/` (the newest 20).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb

from ..settings import Settings
from ..warehouse import rows_fingerprint

# semantic_layer is imported where it is used: it imports dagster_project.defs.dbt.project, whose
# package (dagster_project.defs) imports the dashboard asset, which imports this module.

CUSTOMER_METRICS = ("customers", "purchasers")
CUSTOMER_GROUP_BY = ("customer__churn_risk",)
MONTH_METRICS = ("revenue", "new_customers", "churned_customers", "reactivated_customers", "nps_promoters",
                 "nps_detractors", "nps_responses", "csat_top2_responses", "csat_5_responses", "csat_responses")
MONTH_GROUP_BY = ("metric_time__month", "kpi_month__is_partial")
YEAR_METRICS = ("customers_3plus", "year_active_customers", "retained_customers", "prior_year_active")
YEAR_GROUP_BY = ("metric_time__year", "retention_by_year__tier", "retention_by_year__is_partial")
QUERIES = {
    "customers": (CUSTOMER_METRICS, CUSTOMER_GROUP_BY),
    "months": (MONTH_METRICS, MONTH_GROUP_BY),
    "years": (YEAR_METRICS, YEAR_GROUP_BY),
}


@dataclass(frozen=True)
class MonthParts:
    """One month of kpi_monthly as the semantic layer's metrics give it."""

    month: dt.date
    is_partial: bool
    revenue: float
    new_customers: int
    churned_customers: int
    reactivated_customers: int
    nps_promoters: int
    nps_detractors: int
    nps_responses: int
    csat_top2_responses: int
    csat_5_responses: int
    csat_responses: int


@dataclass(frozen=True)
class YearParts:
    """One year x tier of retention_by_year as the semantic layer's metrics give it."""

    year: int
    tier: str
    is_partial: bool
    customers_3plus: int
    year_active_customers: int
    retained_customers: int
    prior_year_active: int


@dataclass(frozen=True)
class SemanticNumbers:
    by_churn_risk: dict[str | None, tuple[int, int]]  # churn_risk -> (customers, purchasers)
    months: list[MonthParts]  # by month, oldest first
    years: list[YearParts]  # by year, then tier

    @property
    def customers(self) -> int:
        return sum(c for c, _ in self.by_churn_risk.values())

    @property
    def purchasers(self) -> int:
        return sum(p for _, p in self.by_churn_risk.values())

    def customers_with_churn_risk(self, risk: str) -> int:
        return self.by_churn_risk.get(risk, (0, 0))[0]


def query_arguments(metrics, group_by, csv_file: Path) -> list[str]:
    """The `mf` command line of one query (the same as `c360 metrics --metrics ... --group-by ...`)."""
    return ["query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by),
            "--csv", str(csv_file), "--quiet"]


def _query(settings: Settings, name: str, folder: Path) -> list[dict[str, str]]:
    from ..semantic_layer import SemanticLayerError, run_metricflow

    metrics, group_by = QUERIES[name]
    csv_file = folder / f"{name}.csv"
    proc = run_metricflow(settings, query_arguments(metrics, group_by, csv_file), capture=True)
    if proc.returncode != 0 or not csv_file.is_file():
        raise SemanticLayerError(
            f"the dashboard's MetricFlow query of {', '.join(metrics)} by {', '.join(group_by)} failed "
            f"(mf exit {proc.returncode}):\n{proc.stdout}{proc.stderr}".rstrip())
    with open(csv_file, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _int(text: str) -> int:
    return int(float(text)) if text else 0


def _float(text: str) -> float:
    return float(text) if text else 0.0


def _bool(text: str) -> bool:
    if text not in ("True", "False"):
        raise ValueError(f"MetricFlow gave {text!r} for a true/false dimension")
    return text == "True"


def _date(text: str) -> dt.date:
    return dt.datetime.fromisoformat(text).date()


def parse(rows: dict[str, list[dict[str, str]]]) -> SemanticNumbers:
    """The three queries' CSV rows as the dashboard's numbers."""
    by_risk = {r["customer__churn_risk"] or None: (_int(r["customers"]), _int(r["purchasers"]))
               for r in rows["customers"]}
    months = sorted((MonthParts(_date(r["metric_time__month"]), _bool(r["kpi_month__is_partial"]),
                                _float(r["revenue"]), *(_int(r[m]) for m in MONTH_METRICS[1:]))
                     for r in rows["months"]), key=lambda m: m.month)
    years = sorted((YearParts(_date(r["metric_time__year"]).year, r["retention_by_year__tier"],
                              _bool(r["retention_by_year__is_partial"]), *(_int(r[m]) for m in YEAR_METRICS))
                    for r in rows["years"]), key=lambda y: (y.year, y.tier))
    return SemanticNumbers(by_risk, months, years)


ANSWERS_FOLDER = "semantic_answers"
ANSWERS_KEPT = 20
ANSWERED_BY = ("metricflow", "dbt-metricflow", "dbt-core", "dbt-duckdb", "duckdb")


def answers_key(settings: Settings) -> str:
    """What the three queries' answers follow from, as one hash (see the module's docstring)."""
    from ..semantic_layer import SEMANTIC_MANIFEST, prepare_metricflow_folder

    manifest_text = (prepare_metricflow_folder(settings) / "target" / SEMANTIC_MANIFEST).read_text()
    manifest = json.loads(manifest_text)
    relations = {(m["node_relation"]["schema_name"], m["node_relation"]["alias"]) for m in manifest["semantic_models"]}
    relations |= {(t["node_relation"]["schema_name"], t["node_relation"]["alias"])
                  for t in manifest.get("project_configuration", {}).get("time_spines", [])}
    digest = hashlib.sha256(manifest_text.encode())
    digest.update(json.dumps(QUERIES, sort_keys=True).encode())
    for package in ANSWERED_BY:
        digest.update(f"{package}=={metadata.version(package)}".encode())
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        for schema, table in sorted(relations):
            relation = f'"{schema}"."{table}"'
            digest.update(f"{schema}.{table}:{rows_fingerprint(con, relation)}".encode())
    finally:
        con.close()
    return digest.hexdigest()


def read_semantic_numbers(settings: Settings) -> SemanticNumbers:
    """The dashboard's semantic-layer numbers for the published file of `settings`."""
    return parse(semantic_answers(settings)[0])


def semantic_answers(settings: Settings) -> tuple[dict[str, list[dict[str, str]]], bool]:
    """(the three queries' rows, whether they were kept answers) for the published file of
    `settings`: the kept answers of the same inputs, else three `mf query` runs side by side."""
    folder = settings.dbt_target_path / ANSWERS_FOLDER
    kept = folder / f"{answers_key(settings)}.json"
    if kept.is_file():
        return json.loads(kept.read_text()), True
    with tempfile.TemporaryDirectory(prefix="c360-dashboard-mf-") as temp:
        with ThreadPoolExecutor(max_workers=len(QUERIES)) as pool:
            futures = {name: pool.submit(_query, settings, name, Path(temp)) for name in QUERIES}
            rows = {name: future.result() for name, future in futures.items()}
    folder.mkdir(parents=True, exist_ok=True)
    temp_file = folder / f".{kept.name}.{os.getpid()}"
    temp_file.write_text(json.dumps(rows))
    os.replace(temp_file, kept)
    for old in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[ANSWERS_KEPT:]:
        old.unlink(missing_ok=True)
    return rows, False
