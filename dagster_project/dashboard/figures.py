"""The dashboard's charts: one Plotly figure per function, from the values of `data.py`.

No number is computed here beyond arranging what data.py returns; every hover says the sample
size of the ratio it shows.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import data

TIER_COLORS = {"standard": "#7f8c9b", "gold": "#d4a017", "no tier": "#b0b0b0"}
GREY = "#9aa0a6"
BLUE = "#1f6fb2"
LAYOUT = dict(template="plotly_white", height=360, margin=dict(l=60, r=20, t=30, b=50),
              font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12),
              legend=dict(orientation="h", y=-0.18), hoverlabel=dict(align="left"))


def _month(d) -> str:
    return f"{d:%Y-%m}"


def _pct(r: data.Ratio) -> str:
    return "n/a (no one to count)" if r.value is None else f"{r.value:.1f}%"


def _empty(fig: go.Figure, text: str = "nothing to show yet") -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color=GREY))
    return fig


def retention_by_tier(rows: list[data.TierYear]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("repeat rate (3+ purchases in the year)",
                                                        "retention rate (active the year before, again this year)"))
    for tier in data.TIERS:
        mine = [r for r in rows if r.tier == tier]
        years = [f"{r.year}{' (to D)' if r.is_partial else ''}" for r in mine]
        for col, pick, what in ((1, lambda r: r.repeat_3plus, "with 3+ purchases"),
                                (2, lambda r: r.retention, "retained of the year before's active")):
            ratios = [pick(r) for r in mine]
            fig.add_bar(
                x=years, y=[r.value for r in ratios], name=tier, legendgroup=tier, showlegend=col == 1,
                marker_color=TIER_COLORS[tier], text=[f"n={r.denominator}" for r in ratios], textposition="outside",
                customdata=[[r.numerator, r.denominator, _pct(r)] for r in ratios],
                hovertemplate=f"{tier} %{{x}}<br>%{{customdata[2]}}: %{{customdata[0]}} of %{{customdata[1]}} "
                              f"customers {what}<extra></extra>",
                row=1, col=col,
            )
    fig.update_layout(**LAYOUT, barmode="group")
    fig.update_yaxes(range=[0, 110], ticksuffix="%")
    fig.update_annotations(font_size=12)
    return fig if rows else _empty(fig)


def cohort_heatmap(cells: list[data.CohortCell]) -> go.Figure:
    cohorts = sorted({c.cohort_month for c in cells})
    offsets = sorted({c.months_since_first for c in cells})
    by_key = {(c.cohort_month, c.months_since_first): c for c in cells}
    labels = [f"{_month(m)} (n={next(c.cohort_size for c in cells if c.cohort_month == m)})" for m in cohorts]
    z, custom = [], []
    for m in cohorts:
        z.append([by_key[(m, o)].active.value if (m, o) in by_key else None for o in offsets])
        custom.append([[by_key[(m, o)].active.numerator, by_key[(m, o)].cohort_size] if (m, o) in by_key
                       else [None, None] for o in offsets])
    later = [c.active.value for c in cells if c.months_since_first > 0 and c.active.value is not None]
    fig = go.Figure(go.Heatmap(
        x=offsets, y=labels, z=z, customdata=custom, colorscale="Blues", zmin=0,
        zmax=max(later) if later and max(later) > 0 else 100, colorbar=dict(title="active %", ticksuffix="%"),
        hovertemplate="cohort %{y}, month +%{x}<br>%{z:.1f}% active: %{customdata[0]} of %{customdata[1]}"
                      "<extra></extra>",
        hoverongaps=False,
    ))
    # grey behind: months a cohort has not reached yet, told apart from a month where nobody bought
    fig.update_layout(**{**LAYOUT, "height": max(360, 18 * len(cohorts) + 120)}, plot_bgcolor="#e4e7eb")
    fig.update_xaxes(title="months since first purchase", dtick=1, showgrid=False)
    fig.update_yaxes(title="cohort (first purchase month)", autorange="reversed", type="category", showgrid=False)
    return fig if cells else _empty(fig)


def monthly_revenue(months: list[data.RevenueMonth]) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = [_month(m.month) for m in months]
    fig.add_bar(x=x, y=[m.revenue for m in months], name="revenue", marker_color=["#9ecae1" if m.is_partial else
                                                                                   "#c6dbef" for m in months],
                customdata=[[m.active, " (partial month, to D)" if m.is_partial else ""] for m in months],
                hovertemplate="%{x}%{customdata[1]}<br>revenue %{y:,.2f} from %{customdata[0]} active customers"
                              "<extra></extra>", secondary_y=False)
    for name, pick, color in (("new customers", lambda m: m.new, "#2ca02c"),
                              ("churned customers", lambda m: m.churned, "#d62728"),
                              ("reactivated customers", lambda m: m.reactivated, "#9467bd")):
        fig.add_scatter(x=x, y=[pick(m) for m in months], name=name, mode="lines+markers",
                        line=dict(color=color, width=2), hovertemplate=f"%{{x}}: %{{y}} {name}<extra></extra>",
                        secondary_y=True)
    fig.update_layout(**LAYOUT, hovermode="x unified")
    fig.update_yaxes(title="revenue", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title="customers", secondary_y=True, rangemode="tozero", showgrid=False, tickmode="auto",
                     tickformat=",d", nticks=6)
    return fig if months else _empty(fig)


def _stable_and_sparse(fig: go.Figure, x: list[str], ratios: list[data.Ratio], name: str, color: str,
                       min_responses: int, row: int, dash: str = "solid") -> None:
    """A line through the months with enough responses; the other months as hollow grey markers, no
    line through them (a ratio over a handful of answers is not a swing)."""
    stable = [r.value if r.denominator >= min_responses else None for r in ratios]
    sparse = [r.value if 0 < r.denominator < min_responses else None for r in ratios]
    custom = [[r.denominator, _pct(r).replace("%", "") if name == "NPS" else _pct(r)] for r in ratios]
    fig.add_scatter(x=x, y=stable, name=name, mode="lines+markers", connectgaps=False, customdata=custom,
                    line=dict(color=color, width=2, dash=dash), marker=dict(color=color, size=7),
                    hovertemplate=f"%{{x}}: {name} %{{y:.1f}} from %{{customdata[0]}} responses<extra></extra>",
                    row=row, col=1)
    fig.add_scatter(x=x, y=sparse, name=f"{name}: too few responses (< {min_responses})", mode="markers",
                    customdata=custom, marker=dict(symbol="circle-open", color=GREY, size=9, line=dict(width=2)),
                    hovertemplate=f"%{{x}}: too few responses for a stable {name} (%{{customdata[0]}} < "
                                  f"{min_responses}); {name} of these alone: %{{y:.1f}}<extra></extra>",
                    row=row, col=1)


def satisfaction_trend(months: list[data.SatisfactionMonth], min_responses: int) -> go.Figure:
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.42, 0.38, 0.2],
                        subplot_titles=("NPS (−100 … +100)", "CSAT: top-2 (4–5) and completely satisfied (5), %",
                                        "responses per month (the sample size)"))
    x = [_month(m.month) for m in months]
    _stable_and_sparse(fig, x, [m.nps for m in months], "NPS", BLUE, min_responses, row=1)
    _stable_and_sparse(fig, x, [m.csat_top2 for m in months], "CSAT top-2", "#2ca02c", min_responses, row=2)
    _stable_and_sparse(fig, x, [m.csat_5 for m in months], "CSAT 5", "#17becf", min_responses, row=2, dash="dot")
    fig.add_bar(x=x, y=[m.nps.denominator for m in months], name="NPS responses", marker_color="#c6dbef",
                hovertemplate="%{x}: %{y} NPS responses<extra></extra>", row=3, col=1)
    fig.add_hline(y=min_responses, line_dash="dot", line_color="#d62728", row=3, col=1,
                  annotation_text=f"stable from {min_responses}", annotation_position="top left",
                  annotation_font_size=10)
    fig.update_layout(**{**LAYOUT, "height": 600})
    fig.update_yaxes(range=[-105, 105], row=1, col=1, zeroline=True)
    fig.update_yaxes(range=[-5, 105], ticksuffix="%", row=2, col=1)
    fig.update_yaxes(rangemode="tozero", row=3, col=1)
    fig.update_annotations(font_size=12)
    return fig if months else _empty(fig)


def repeat_by_csat(groups: list[data.RepeatGroup]) -> go.Figure:
    colors = ["#d62728", "#ff7f0e", "#bcbd22", "#9ecae1", "#2ca02c", GREY]
    fig = go.Figure(go.Bar(
        x=[g.label for g in groups], y=[g.repeat.value for g in groups], marker_color=colors[: len(groups)],
        text=[f"n={g.repeat.denominator}" for g in groups], textposition="outside",
        customdata=[[g.repeat.numerator, g.repeat.denominator, _pct(g.repeat)] for g in groups],
        hovertemplate="latest answer %{x}: %{customdata[2]} bought 3+ times in the last 365 days "
                      "(%{customdata[0]} of %{customdata[1]} purchasers)<extra></extra>",
    ))
    fig.update_layout(**LAYOUT, showlegend=False)
    fig.update_yaxes(title="purchasers with 3+ purchases in 365 days", ticksuffix="%", range=[0, 110])
    fig.update_xaxes(title="latest CSAT answer (1 = very dissatisfied, 5 = completely satisfied)")
    return fig


def share_of_wallet(by_tier: dict[str, data.WalletShares]) -> go.Figure:
    fig = go.Figure()
    for tier, shares in by_tier.items():
        color = TIER_COLORS.get(tier, GREY)
        common = dict(name=f"{tier} (n={shares.customers:,})", marker=dict(color=color, size=6),
                      line=dict(color=color), boxmean=True)
        if shares.values is not None:  # few enough: every customer a dot
            fig.add_box(y=[100 * v for v in shares.values], boxpoints="all", jitter=0.4, pointpos=0,
                        hovertemplate=f"{tier}: %{{y:.1f}}% of the category spend<extra></extra>", **common)
        else:  # the box from DuckDB's quartiles
            fig.add_box(x=[common["name"]], q1=[100 * shares.q1], median=[100 * shares.median],
                        q3=[100 * shares.q3], lowerfence=[100 * shares.low], upperfence=[100 * shares.high],
                        mean=[100 * shares.mean], **common)
    fig.update_layout(**LAYOUT, showlegend=False)
    fig.update_yaxes(title="share of wallet", ticksuffix="%", range=[0, 105])
    return fig if any(s.customers for s in by_tier.values()) else _empty(
        fig, "no survey response with a category spend yet")


def affinity_pairs(pairs: list[data.AffinityPair]) -> go.Figure:
    pairs = list(reversed(pairs))  # largest on top
    fig = go.Figure(go.Bar(
        y=[f"{p.category_a} + {p.category_b}" for p in pairs], x=[p.lift for p in pairs], orientation="h",
        marker_color=BLUE, text=[f"{p.lift:.2f} (n={p.customers_both})" for p in pairs], textposition="outside",
        customdata=[[p.customers_both, p.category_a, p.category_b, _pct(p.confidence_a_to_b),
                     _pct(p.confidence_b_to_a), p.confidence_a_to_b.denominator, p.confidence_b_to_a.denominator]
                    for p in pairs],
        hovertemplate="%{customdata[0]} customers bought both %{customdata[1]} and %{customdata[2]}<br>"
                      "lift %{x:.2f}: %{customdata[1]} → %{customdata[2]} %{customdata[3]} of %{customdata[5]}; "
                      "%{customdata[2]} → %{customdata[1]} %{customdata[4]} of %{customdata[6]}<extra></extra>",
    ))
    fig.add_vline(x=1, line_dash="dot", line_color=GREY)
    fig.update_layout(**{**LAYOUT, "height": max(360, 26 * len(pairs) + 110)}, showlegend=False)
    fig.update_xaxes(title="lift (1 = no more than chance)", range=[0, max([p.lift for p in pairs] + [1]) * 1.3])
    return fig if pairs else _empty(fig, "no category pair bought together yet")


def lifecycle(counts: dict[str, int]) -> go.Figure:
    total = sum(counts.values())
    colors = {"prospect": "#c7c7c7", "growth": "#2ca02c", "mature": "#1f6fb2", "declining": "#ff7f0e",
              "churned": "#d62728"}
    fig = go.Figure(go.Bar(
        x=list(counts), y=list(counts.values()), marker_color=[colors[s] for s in counts],
        text=[f"{v} ({100 * v / total:.0f}%)" if total else "0" for v in counts.values()], textposition="outside",
        hovertemplate=f"%{{x}}: %{{y}} of {total} customers<extra></extra>",
    ))
    fig.update_layout(**LAYOUT, showlegend=False)
    fig.update_yaxes(title="customers", range=[0, max(list(counts.values()) + [1]) * 1.2])
    return fig


def revenue_pareto(pareto: data.Pareto) -> go.Figure:
    n, total = pareto.purchasers, pareto.revenue_12m
    xs = [0.0] + [100 * k / n for k, _ in pareto.curve]
    ys = [0.0] + [100 * running / total if total else 0.0 for _, running in pareto.curve]
    fig = go.Figure()
    fig.add_scatter(x=[0, 100], y=[0, 100], mode="lines", line=dict(color=GREY, dash="dot"), name="equal shares",
                    hoverinfo="skip")
    fig.add_scatter(x=xs, y=ys, mode="lines", line=dict(color=BLUE, width=3), name="cumulative revenue",
                    customdata=[0] + [k for k, _ in pareto.curve],
                    hovertemplate="top %{x:.1f}% of purchasers (%{customdata:,}) bring %{y:.1f}% of the "
                                  "12-month revenue<extra></extra>")
    share = pareto.top_20pct_share
    if share is not None and n:
        top_x = 100 * pareto.top_20pct_customers / n
        fig.add_scatter(x=[top_x], y=[share], mode="markers+text", marker=dict(size=11, color="#d62728"),
                        text=[f"top 20% ({pareto.top_20pct_customers:,} of {n:,}): {share:.1f}% of revenue"],
                        textposition="bottom right", name="top 20% of purchasers",
                        hovertemplate=f"the top 20% ({pareto.top_20pct_customers:,} of {n:,} purchasers) bring "
                                      f"{share:.1f}% of the 12-month revenue<extra></extra>")
        fig.add_vline(x=top_x, line_dash="dot", line_color="#d62728")
    fig.update_layout(**LAYOUT)
    fig.update_xaxes(title="share of purchasers, largest 12-month revenue first", ticksuffix="%", range=[0, 100])
    fig.update_yaxes(title="share of 12-month revenue", ticksuffix="%", range=[0, 105])
    return fig if n and not math.isclose(total, 0.0) else _empty(fig, "no revenue in the last 365 days")


VALUE_COLORS = {"top": "#2ca02c", "middle": BLUE, "bottom": "#ff7f0e", "prospect": "#c7c7c7", "not scored": GREY}


def value_segments(segments: list[data.ValueSegment]) -> go.Figure:
    """Customers per value segment (left) and the segment's expected value of the next 365 days (right)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=("customers", "expected customer value, next 365 days"))
    names = [s.segment for s in segments]
    colors = [VALUE_COLORS.get(s.segment, GREY) for s in segments]
    total = sum(s.customers for s in segments)
    fig.add_bar(x=names, y=[s.customers for s in segments], marker_color=colors, showlegend=False,
                text=[f"{s.customers:,} ({100 * s.customers / total:.0f}%)" if total else "0" for s in segments],
                textposition="outside", hovertemplate=f"%{{x}}: %{{y:,}} of {total:,} customers<extra></extra>",
                row=1, col=1)
    scored = [s for s in segments if s.value_365d is not None]
    fig.add_bar(x=[s.segment for s in scored], y=[s.value_365d for s in scored],
                marker_color=[VALUE_COLORS.get(s.segment, GREY) for s in scored], showlegend=False,
                customdata=[[s.customers, s.margin_365d, s.service_cost_365d, s.referral_value_365d,
                             s.expected_purchases_365d] for s in scored],
                hovertemplate="%{x}: %{y:,.2f} from %{customdata[0]:,} customers<br>= margin %{customdata[1]:,.2f} "
                              "− service cost %{customdata[2]:,.2f} + referrals %{customdata[3]:,.2f}<br>"
                              "%{customdata[4]:,.1f} expected purchases<extra></extra>", row=1, col=2)
    fig.update_layout(**LAYOUT)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(range=[0, max([s.customers for s in segments] + [1]) * 1.2], row=1, col=1)
    fig.update_annotations(font_size=12)
    return fig if segments else _empty(fig, "no customer yet")


def value_calibration(calibration: data.Calibration) -> go.Figure:
    """The holdout's mean purchases per customer by past frequency: what happened, the model, the
    naive baseline; the closer the model's line to the bars, the better calibrated."""
    fig = go.Figure()
    rows = calibration.buckets
    x = [r["bucket"] for r in rows]
    custom = [[r["customers"]] for r in rows]
    fig.add_bar(x=x, y=[r["actual_mean"] for r in rows], name="actual", marker_color="#c6dbef", customdata=custom,
                hovertemplate="past frequency %{x}: %{y:.3f} purchases per customer, as they happened "
                              "(%{customdata[0]:,} customers)<extra></extra>")
    for name, key, color, dash in (("model (MBG/NBD)", "predicted_mean", BLUE, "solid"),
                                   ("naive: past rate repeated", "naive_mean", "#ff7f0e", "dot")):
        fig.add_scatter(x=x, y=[r[key] for r in rows], name=name, mode="lines+markers", customdata=custom,
                        line=dict(color=color, width=2, dash=dash),
                        hovertemplate=f"past frequency %{{x}}: {name} %{{y:.3f}} purchases per customer "
                                      f"(%{{customdata[0]:,}} customers)<extra></extra>")
    fig.update_layout(**LAYOUT)
    fig.update_xaxes(title="repeat purchases up to the cut-off (frequency)", type="category")
    fig.update_yaxes(title="purchases per customer in the holdout", rangemode="tozero")
    if rows:
        return fig
    why = ("no customer-value fit in use" if calibration.fit_id is None
           else "no holdout calibration kept with the fit in use (C360_CLV_HOLDOUT_DAYS 0, too little history "
                "before the cut-off, or the holdout fit failed)")
    return _empty(fig, why)
