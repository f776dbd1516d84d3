"""The dashboard page: one self-contained HTML file beside the published mart.

`build_dashboard(settings, target)` reads the published file read-only (data.py) and the
semantic layer's metrics through MetricFlow (semantic.py, three `mf query` runs over the same
file), draws the charts (figures.py) and writes `target` atomically: a temp file in the same folder,
flushed, then os.replace, so a reader opens the old page or the new one, never half of one.
plotly.js is inside the page: it opens from the file with no server and no network.
"""

from __future__ import annotations

import datetime as dt
import glob
import html
import os
import time
from dataclasses import dataclass
from pathlib import Path

import plotly
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from ..settings import Settings
from ..warehouse import TEMP_SUFFIX, process_alive
from . import data, figures
from .semantic import SemanticNumbers, parse, semantic_answers

DASHBOARD_FILE = "dashboard.html"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    guide: str  # one line: how to read it
    figure: go.Figure
    wide: bool = False


@dataclass(frozen=True)
class Built:
    path: Path
    charts: list[str]  # ids of the Plotly charts on the page, in order
    tiles: dict[str, float | int | None]  # the headline tiles' values, as the page carries them
    as_of_date: dt.date
    bytes: int
    metricflow_seconds: float = 0.0  # the semantic layer's `mf query` runs (side by side)
    metricflow_answers_kept: bool = False  # the answers of an identical mart and semantic layer were re-used


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _tiles(h: data.Headline, min_responses: int) -> tuple[str, dict[str, float | int | None]]:
    months = (f"{h.nps_first_month:%Y-%m} – {h.nps_last_month:%Y-%m}" if h.nps_first_month else "no months yet")
    nps = "–" if h.nps_12m.value is None else f"{h.nps_12m.value:+.0f}"
    retention = "–" if h.retention.value is None else f"{h.retention.value:.1f}%"
    tiles = [
        ("customers", h.customers, f"{h.customers:,}", "customers known to the ERP"),
        ("purchasers", h.purchasers, f"{h.purchasers:,}",
         f"customers with a purchase ({100 * h.purchasers / h.customers:.0f}% of {h.customers:,})"
         if h.customers else "customers with a purchase"),
        ("revenue_12m", round(h.revenue_12m, 2), _money(h.revenue_12m), "net revenue, the 365 days ending on the as-of date"),
        ("nps_12m", None if h.nps_12m.value is None else round(h.nps_12m.value, 4), nps,
         f"NPS over {months}: (promoters − detractors) ÷ {h.nps_12m.denominator:,} responses"
         + (f" — too few for a stable NPS (< {min_responses})" if h.nps_12m.denominator < min_responses else "")),
        ("retention_rate", None if h.retention.value is None else round(h.retention.value, 4), retention,
         f"retention in {h.retention_year}: {h.retention.numerator:,} of the {h.retention.denominator:,} customers "
         f"active in {h.retention_year - 1} bought again" if h.retention_year else "no full year yet"),
        ("at_churn_risk", h.at_churn_risk, f"{h.at_churn_risk:,}",
         f"customers at churn risk: overdue for their next purchase (another {h.churned:,} already churned)"),
    ]
    values = {key: value for key, value, _, _ in tiles}
    sparse = {"nps_12m"} if h.nps_12m.denominator < min_responses else set()
    cells = "".join(
        f'<div class="tile{" sparse" if key in sparse else ""}" data-tile="{key}" data-value="{_e("" if value is None else value)}">'
        f'<div class="value">{_e(shown)}</div><div class="label">{_e(label)}</div></div>'
        for key, value, shown, label in tiles
    )
    return f'<section class="tiles">{cells}</section>', values


def _call_table(total: int, rows: list[dict]) -> str:
    head = ("customer", "name", "tier", "revenue, 12 months", "last purchase", "days since",
            "next purchase was due", "open tickets", "next best category", "latest NPS")
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(v)}</td>" for v in (
            r["customer_id"], r["name"] or "", r["tier"] or "", _money(r["net_revenue_12m"] or 0),
            r["last_purchase_date"] or "", r["days_since_last_purchase"] if r["days_since_last_purchase"] is not None else "",
            r["expected_next_purchase_date"] or "", r["open_tickets"], r["next_best_category"] or "",
            "" if r["latest_nps"] is None else r["latest_nps"],
        )) + "</tr>"
        for r in rows
    ) or f'<tr><td colspan="{len(head)}">no customer at churn risk</td></tr>'
    return (f'<section class="card wide" id="call-list"><h2>Customers most worth a call</h2>'
            f'<p class="guide">The {len(rows)} of the {total} customers at churn risk (overdue for their next '
            f'purchase, not churned yet) with the most revenue in the last 365 days: call the top rows first, '
            f'and mind their open tickets.</p><div class="scroll"><table><thead><tr>'
            + "".join(f"<th>{_e(h)}</th>" for h in head) + f"</tr></thead><tbody>{body}</tbody></table></div></section>")


def charts(con, semantic: SemanticNumbers, min_responses: int) -> list[Chart]:
    """Every chart of the page, in order, from the published file and the semantic layer."""
    pareto = data.revenue_pareto(con)
    share = pareto.top_20pct_share
    calibration = data.value_calibration(con)
    return [
        Chart("retention-by-tier", "Retention by tier and year",
              "Bars per year, gold against standard: the higher, the more customers came back; n is the "
              "customers the rate is counted over.", figures.retention_by_tier(data.retention_by_tier(semantic)), wide=True),
        Chart("monthly-revenue", "Monthly revenue, new, churned and reactivated customers",
              "Bars are revenue (left axis), lines are customers (right axis): churn above new customers "
              "means the base is shrinking.", figures.monthly_revenue(data.monthly_revenue(con, semantic)), wide=True),
        Chart("cohort-retention", "Cohort retention",
              "Each row is the customers of one first-purchase month; read across for the share still "
              "buying 1, 2, 3 … months later (darker = more; grey = not reached yet).", figures.cohort_heatmap(data.cohort_retention(con)),
              wide=True),
        Chart("satisfaction-trend", "NPS and CSAT by month",
              f"Lines join months with at least {min_responses} responses; hollow grey circles are months with "
              f"fewer, too few for a stable score, not a swing.",
              figures.satisfaction_trend(data.satisfaction_trend(semantic), min_responses), wide=True),
        Chart("repeat-by-csat", "Satisfaction vs repeat purchase",
              "Share of purchasers who bought 3+ times in the last 365 days, by their latest CSAT: compare "
              "CSAT 5 (completely satisfied) with 4.", figures.repeat_by_csat(data.repeat_by_csat(con))),
        Chart("share-of-wallet", "Share of wallet by tier",
              "Each dot is a customer's share of their category spend bought from us (latest survey); the box "
              "holds the middle half, the dashed line is the mean.",
              figures.share_of_wallet(data.share_of_wallet_by_tier(con))),
        Chart("category-affinity", "Top category pairs by lift",
              "Lift above 1: customers of one category buy the other more often than average; n is the "
              "customers who bought both.", figures.affinity_pairs(data.top_affinity_pairs(con))),
        Chart("lifecycle", "Life-cycle stages",
              "Customers by stage today: growth and mature are healthy; declining ones are overdue and are "
              "the call list below.", figures.lifecycle(data.lifecycle_counts(con))),
        Chart("revenue-pareto", "Revenue concentration (Pareto)",
              "Purchasers ranked by 12-month revenue: the red point is the share of revenue from the top 20%"
              + (f" ({share:.0f}%)." if share is not None else "."), figures.revenue_pareto(pareto), wide=True),
        Chart("value-segments", "Customer value segments",
              "Purchasers by expected value of the next 365 days (margin − service cost + referrals): the top "
              "20%, the middle and the bottom 20%; prospects have not bought yet. Hover for the parts.",
              figures.value_segments(data.value_segments(con))),
        Chart("value-calibration", "Customer value model: holdout calibration",
              _calibration_guide(calibration), figures.value_calibration(calibration)),
    ]


def _calibration_guide(c: data.Calibration) -> str:
    if not c.buckets:
        return "How well the purchase model predicted a held-out period, by past repeat purchases."
    return (f"Refitted on purchases up to {c.cutoff}, then predicted the next {c.holdout_days} days for "
            f"{c.customers:,} purchasers: bars are what they bought, lines the model and a naive baseline. "
            f"Total predicted {c.predicted_total:,.0f} vs actual {c.actual_total:,.0f}; mean absolute error "
            f"per customer {c.mae_model:.3f} (naive {c.mae_naive:.3f}).")


CSS = """
body{margin:0;background:#f4f6f8;color:#1d2733;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#1d2733;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d3dd;font-size:13px}
main{padding:18px 28px;display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px}
.tiles{grid-column:1/-1;display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:14px}
.tile{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.tile .value{font-size:28px;font-weight:600}.tile.sparse .value{color:#9aa0a6}.tile .label{font-size:12px;color:#5b6875;margin-top:4px}
.card{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:0}
.card.wide{grid-column:1/-1}.card h2{margin:0;font-size:16px}
.guide{margin:4px 0 8px;color:#5b6875;font-size:13px}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e8ee;white-space:nowrap}
th{background:#f4f6f8}td:nth-child(4),td:nth-child(6),td:nth-child(8),td:nth-child(10){text-align:right}
footer{padding:0 28px 24px;color:#5b6875;font-size:12px}
@media (max-width:1100px){main{grid-template-columns:1fr}.tiles{grid-template-columns:repeat(3,1fr)}}
"""


def render(warehouse: Path, semantic: SemanticNumbers, min_responses: int) -> tuple[str, list[str], dict, dt.date]:
    """(the page's HTML, chart ids, tile values, as-of date) from the published file and the
    semantic layer's numbers over it."""
    with data.published(warehouse) as con:
        stamp = data.stamp(con)
        tiles_html, tiles = _tiles(data.headline(con, semantic), min_responses)
        chart_list = charts(con, semantic, min_responses)
        call_total, call_rows = data.customers_to_call(con)
    refreshed = stamp.refreshed_at.astimezone(dt.timezone.utc) if stamp.refreshed_at.tzinfo else stamp.refreshed_at
    cards = "".join(
        f'<section class="card{" wide" if c.wide else ""}" id="{c.id}"><h2>{_e(c.title)}</h2>'
        f'<p class="guide">{_e(c.guide)}</p>'
        + c.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{c.id}", config=PLOTLY_CONFIG,
                           default_height=f"{c.figure.layout.height}px")
        + "</section>"
        for c in chart_list
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer 360 as of {stamp.as_of_date}</title>
<meta name="c360-charts" content="{len(chart_list)}">
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<header><h1>Customer 360</h1>
<p>As of <b id="as-of-date">{stamp.as_of_date}</b> · refreshed <span id="refreshed-at">{refreshed:%Y-%m-%d %H:%M} UTC</span>
· run {_e(stamp.run_id[:8])} · code {_e(stamp.code_version)} · hover any chart for values and sample sizes; drag to zoom,
double-click to reset</p></header>
<main>
{tiles_html}
{cards}
{_call_table(call_total, call_rows)}
</main>
<footer>Built from {_e(warehouse.name)} (read-only) by the daily refresh; plotly.js {plotly.__version__}
inside this file, so it opens with no server and no network. Metric definitions: shared/spec/metrics.md.</footer>
</body></html>
"""
    return page, [f"chart-{c.id}" for c in chart_list], tiles, stamp.as_of_date


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Half-written pages of a build that was killed (their process is gone)."""
    removed = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"):
        pid = path.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and process_alive(int(pid)):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def write_atomically(target: Path, text: str) -> int:
    """Write `text` to a temp file beside `target`, flush it to disk, and os.replace it into place."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.{time.time_ns()}{TEMP_SUFFIX}")
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        size = temp.stat().st_size
        os.replace(temp, target)
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        temp.unlink(missing_ok=True)
    return size


def build_dashboard(settings: Settings, target: Path | None = None) -> Built:
    """Render the page from the published file (settings.warehouse) and the semantic layer over it,
    and replace `target` (default: dashboard.html beside it) atomically. A failing MetricFlow query
    raises SemanticLayerError with MetricFlow's words; no page is written then."""
    warehouse = settings.warehouse
    target = target or warehouse.with_name(DASHBOARD_FILE)
    if not warehouse.is_file():
        raise FileNotFoundError(f"nothing published yet at {warehouse}: the dashboard is drawn from the published mart")
    remove_stale_temp_files(target)
    started = time.monotonic()
    answers, kept = semantic_answers(settings)
    metricflow_seconds = time.monotonic() - started
    page, chart_ids, tiles, as_of = render(warehouse, parse(answers), settings.nps_min_responses)
    size = write_atomically(target, page)
    return Built(target, chart_ids, tiles, as_of, size, round(metricflow_seconds, 1), kept)
