"""The dashboard (issue 12): dashboard.html beside the published mart, rebuilt by every refresh,
self-contained, drawn in a real headless browser with the network off, tiles equal to the mart."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.dashboard import data, figures
from dagster_project.dashboard.page import DASHBOARD_FILE, remove_stale_temp_files, write_atomically
from dagster_project.settings import DEFAULT_NPS_MIN_RESPONSES, Settings, SettingsError, load_settings

from .conftest import C360, ROOT, query, refresh_env, run_refresh

DEMO = ROOT / "seeds" / "demo"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOT = ROOT / "tests" / "output" / "dashboard.png"
# The demo has 1-8 survey responses a month: with 3, some months are stable and some are too few.
MIN_RESPONSES = 3
CHARTS = ["chart-retention-by-tier", "chart-monthly-revenue", "chart-cohort-retention", "chart-satisfaction-trend",
          "chart-repeat-by-csat", "chart-share-of-wallet", "chart-category-affinity", "chart-lifecycle",
          "chart-revenue-pareto", "chart-value-segments", "chart-value-calibration"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("dashboard") / "c360.duckdb"
    refresh = run_refresh(DEMO, warehouse, nps_min_responses=str(MIN_RESPONSES))
    assert refresh.returncode == 0, refresh.output
    return warehouse, refresh.output


def expected_tiles(warehouse: Path) -> dict[str, float]:
    """The headline numbers, computed here from the published file, independently of data.py."""
    c360 = query(warehouse, """
        select count(*) as customers, count(first_purchase_date) as purchasers,
               sum(net_revenue_12m) as revenue, count(*) filter (where churn_risk = 'overdue') as overdue
        from marts.customer_360""")[0]
    months = query(warehouse, "select * from marts.kpi_monthly order by month")[-12:]
    promoters = sum(m["nps_promoters"] for m in months)
    detractors = sum(m["nps_detractors"] for m in months)
    responses = sum(m["nps_responses"] for m in months)
    years = [r for r in query(warehouse, "select * from marts.retention_by_year where tier = 'all' order by year")
             if not r["is_partial"]]
    return {
        "customers": c360["customers"],
        "purchasers": c360["purchasers"],
        "revenue_12m": round(c360["revenue"], 2),
        "nps_12m": 100 * (promoters - detractors) / responses,
        "retention_rate": 100 * years[-1]["retained_customers"] / years[-1]["prior_year_active"],
        "at_churn_risk": c360["overdue"],
    }


# ---------------------------------------------------------------- the refresh writes it


def test_a_refresh_writes_the_dashboard_beside_the_published_mart(demo):
    warehouse, output = demo
    page = warehouse.with_name(DASHBOARD_FILE)
    assert page.is_file()
    assert f"dashboard: {page}" in output
    assert not list(warehouse.parent.glob(f".{DASHBOARD_FILE}.*"))  # no half-written page left
    text = page.read_text(encoding="utf-8")
    as_of = query(warehouse, "select as_of_date from ops.publish_info")[0]["as_of_date"]
    assert f'<b id="as-of-date">{as_of}</b>' in text and 'id="refreshed-at"' in text
    # self-contained: plotly.js inside, no script, style or image loaded from elsewhere
    assert "Plotly" in text and len(text) > 3_000_000
    assert not re.search(r"<script[^>]*\bsrc=|<link[^>]*\bhref=|<img[^>]*\bsrc=", text)


def test_the_dashboard_asset_is_downstream_of_the_published_mart_in_the_daily_job():
    from dagster_project.definitions import defs

    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    spec = specs[dg.AssetKey(["warehouse", "dashboard"])]
    assert spec.group_name == "publish"
    assert {dep.asset_key for dep in spec.deps} == {dg.AssetKey(["warehouse", "published_mart"])}
    job = defs.resolve_job_def("daily_refresh")
    assert dg.AssetKey(["warehouse", "dashboard"]) in job.asset_layer.executable_asset_keys


# ---------------------------------------------------------------- numbers from their parts


def test_headline_ratios_come_from_summed_parts_not_averaged_months(demo):
    warehouse, _ = demo
    from dagster_project.dashboard.semantic import read_semantic_numbers

    semantic = read_semantic_numbers(Settings(source_dir=DEMO, warehouse=warehouse))
    with data.published(warehouse) as con:
        headline = data.headline(con, semantic)
    expected = expected_tiles(warehouse)
    assert headline.nps_12m.value == pytest.approx(expected["nps_12m"])
    assert headline.retention.value == pytest.approx(expected["retention_rate"])
    months = query(warehouse, "select nps from marts.kpi_monthly order by month")[-12:]
    averaged = [m["nps"] for m in months if m["nps"] is not None]
    assert sum(averaged) / len(averaged) != pytest.approx(expected["nps_12m"])  # the demo tells them apart
    assert headline.nps_12m.denominator == sum(
        r["nps_responses"] for r in query(warehouse, "select nps_responses from marts.kpi_monthly order by month")[-12:])


def test_a_month_with_too_few_responses_is_drawn_apart_not_as_a_swing():
    month = dt.date(2026, 1, 1)
    months = [data.SatisfactionMonth(month.replace(month=i), data.Ratio(net, n, 100.0), data.Ratio(n, n, 100.0),
                                     data.Ratio(0, n, 100.0)) for i, n, net in ((1, 40, 20), (2, 2, -2), (3, 36, 18),
                                                                                (4, 0, 0))]
    fig = figures.satisfaction_trend(months, DEFAULT_NPS_MIN_RESPONSES)
    stable = next(t for t in fig.data if t.name == "NPS")
    sparse = next(t for t in fig.data if t.name == "NPS: too few responses (< 30)")
    assert list(stable.y) == [50.0, None, 50.0, None] and stable.connectgaps is False
    assert list(sparse.y) == [None, -100.0, None, None]  # drawn hollow and grey, no line
    assert sparse.mode == "markers" and sparse.marker.symbol == "circle-open"


# ---------------------------------------------------------------- in a real browser


def test_the_page_draws_every_chart_offline_in_headless_chromium(demo):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="`make test` installs the test extra (.[test])")
    warehouse, _ = demo
    page_file = warehouse.with_name(DASHBOARD_FILE)
    errors: list[str] = []
    requests: list[str] = []

    def only_files(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
            context.route("**/*", only_files)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
            page.goto(page_file.as_uri())
            page.wait_for_function(
                "n => [...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('.main-svg'))"
                ".length >= n", arg=len(CHARTS), timeout=60_000)
            drawn = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(d => ({
                id: d.id, svgs: d.querySelectorAll('.main-svg').length,
                marks: d.querySelectorAll('g.trace, .hm image, .heatmaplayer image').length}))""")
            tiles = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-tile]')]
                .map(t => [t.dataset.tile, t.dataset.value]))""")
            declared = page.get_attribute('meta[name="c360-charts"]', "content")
            sparse_nps = page.evaluate("""() => document.getElementById('chart-satisfaction-trend').data
                .find(t => t.name.startsWith('NPS: too few')).y.filter(v => v !== null).length""")
            call_rows = page.locator("#call-list tbody tr").count()
            as_of = page.inner_text("#as-of-date")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert errors == []
    assert requests == []  # nothing but the file itself was asked for
    assert [d["id"] for d in drawn] == CHARTS and int(declared) == len(CHARTS)
    assert all(d["svgs"] >= 1 and d["marks"] >= 1 for d in drawn), drawn
    expected = expected_tiles(warehouse)
    assert set(tiles) == set(expected)
    for name, value in expected.items():
        assert float(tiles[name]) == pytest.approx(value, abs=1e-3), name
    months = query(warehouse, "select nps_responses from marts.kpi_monthly")
    assert sparse_nps == sum(1 for m in months if 0 < m["nps_responses"] < MIN_RESPONSES) > 0
    overdue = expected["at_churn_risk"]
    assert call_rows == min(15, overdue)
    assert as_of == str(query(warehouse, "select as_of_date from ops.publish_info")[0]["as_of_date"])
    assert SCREENSHOT.stat().st_size > 50_000


# ---------------------------------------------------------------- atomic replace, setting


def test_the_page_is_replaced_atomically_and_stale_copies_are_removed(tmp_path):
    target = tmp_path / DASHBOARD_FILE
    target.write_text("old")
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".{DASHBOARD_FILE}.{dead.pid}.1.publishing"
    stale.write_text("half a page")
    assert remove_stale_temp_files(target) == [stale] and not stale.exists()
    with open(target, encoding="utf-8") as reader:  # a reader holding the old page keeps it
        write_atomically(target, "new")
        assert reader.read() == "old"
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == [DASHBOARD_FILE]


def test_nps_min_responses_setting(tmp_path):
    from dagster_project.defs.resources import C360Resource

    assert load_settings({}).nps_min_responses == DEFAULT_NPS_MIN_RESPONSES == 30
    assert load_settings({"C360_NPS_MIN_RESPONSES": " 50 "}).nps_min_responses == 50
    for bad in ("0", "-1", "few", "2.5"):
        with pytest.raises(SettingsError, match="C360_NPS_MIN_RESPONSES must be a whole number"):
            load_settings({"C360_NPS_MIN_RESPONSES": bad})
    with pytest.raises(SettingsError, match="C360_NPS_MIN_RESPONSES"):
        Settings(source_dir=tmp_path, warehouse=tmp_path / "w.duckdb", nps_min_responses=0)
    settings = Settings(source_dir=tmp_path, warehouse=tmp_path / "w.duckdb", nps_min_responses=12)
    assert C360Resource.from_settings(settings).settings().nps_min_responses == 12


def test_the_page_stays_small_with_many_customers():
    """At a million customers the Pareto curve is ~200 points and share of wallet a box from DuckDB's
    quartiles, not one point per customer."""
    import duckdb

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""
        create table marts.customer_360 as
        select 'C' || lpad(i::varchar, 7, '0') as customer_id, 1 as purchases_lifetime,
               (i % 997)::double as net_revenue_12m, i <= 20000 as is_top_20pct,
               case when i % 3 = 0 then 'gold' else 'standard' end as tier,
               case when i % 10 = 0 then (i % 101) / 100.0 end as share_of_wallet
        from range(1, 100001) t(i)
    """)
    pareto = data.revenue_pareto(con)
    total = con.execute("select sum(net_revenue_12m) from marts.customer_360").fetchone()[0]
    assert pareto.purchasers == 100_000 and len(pareto.curve) == data.PARETO_STEPS
    assert pareto.curve[-1] == (100_000, pytest.approx(total)) and pareto.curve[0][0] == 500
    assert [k for k, _ in pareto.curve] == sorted(k for k, _ in pareto.curve)
    shares = data.share_of_wallet_by_tier(con)
    assert shares["gold"].values is None and shares["standard"].values is None
    assert shares["gold"].customers + shares["standard"].customers == 10_000
    assert 0 < shares["gold"].q1 < shares["gold"].median < shares["gold"].q3 < 1
    html = figures.share_of_wallet(shares).to_html(include_plotlyjs=False) + \
        figures.revenue_pareto(pareto).to_html(include_plotlyjs=False)
    assert len(html) < 100_000
    con.close()


def test_an_nps_tile_over_too_few_responses_says_so():
    from dagster_project.dashboard.page import _tiles

    def tile(responses: int) -> str:
        headline = data.Headline(10, 5, 100.0, data.Ratio(3, responses, 100.0), dt.date(2025, 7, 1),
                                 dt.date(2026, 6, 1), 2025, data.Ratio(1, 2, 100.0), 1, 0)
        return _tiles(headline, 30)[0]

    assert "too few for a stable NPS (&lt; 30)" in tile(29) and 'class="tile sparse" data-tile="nps_12m"' in tile(29)
    assert "too few" not in tile(30) and "sparse" not in tile(30)


def test_no_dashboard_without_a_published_mart(tmp_path):
    from dagster_project.dashboard import build_dashboard

    with pytest.raises(FileNotFoundError, match="nothing published yet"):
        build_dashboard(Settings(source_dir=tmp_path, warehouse=tmp_path / "c360.duckdb"))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the semantic layer's numbers


def c360_metrics(warehouse: Path, *args: str) -> list[dict[str, str]]:
    """`c360 metrics ... --csv FILE` as an analyst runs it, on the same published file; its rows."""
    import csv

    out = warehouse.with_name(f"metrics-{abs(hash(args))}.csv")
    proc = subprocess.run([str(C360), "metrics", *args, "--csv", str(out), "--quiet"], cwd=ROOT,
                          env=refresh_env(DEMO, warehouse), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out, newline="") as handle:
        return list(csv.DictReader(handle))


def page_tiles(warehouse: Path) -> dict[str, float]:
    text = warehouse.with_name(DASHBOARD_FILE).read_text(encoding="utf-8")
    return {k: float(v) for k, v in re.findall(r'data-tile="([a-z_0-9]+)" data-value="([^"]*)"', text) if v}


def test_the_tiles_of_semantic_metrics_equal_c360_metrics(demo):
    """Each tile that is a metric of the semantic layer is what `c360 metrics` answers for the same
    metric and filters (the page reads them through MetricFlow; revenue of the 365 days to D is no
    semantic metric and is read from the mart, see data.py)."""
    warehouse, _ = demo
    tiles = page_tiles(warehouse)
    [totals] = c360_metrics(warehouse, "--metrics", "customers,purchasers")
    assert tiles["customers"] == int(totals["customers"])
    assert tiles["purchasers"] == int(totals["purchasers"])
    [overdue] = c360_metrics(warehouse, "--metrics", "customers",
                             "--where", "{{ Dimension('customer__churn_risk') }} = 'overdue'")
    assert tiles["at_churn_risk"] == int(overdue["customers"])
    last_month = max(r["month"] for r in query(warehouse, "select month from marts.kpi_monthly"))
    first_month = dt.date(last_month.year - 1, last_month.month, 1) + dt.timedelta(days=32)
    first_month = first_month.replace(day=1)  # the 12 months ending with D's month
    [nps] = c360_metrics(warehouse, "--metrics", "nps",
                         "--where", f"{{{{ TimeDimension('metric_time', 'month') }}}} >= '{first_month}'")
    assert tiles["nps_12m"] == pytest.approx(float(nps["nps"]), abs=1e-3)
    years = c360_metrics(warehouse, "--metrics", "retention_rate", "--group-by", "metric_time__year",
                         "--where", "{{ Dimension('retention_by_year__tier') }} = 'all'",
                         "--where", "{{ Dimension('retention_by_year__is_partial') }} = false",
                         "--order", "-metric_time__year", "--limit", "1")
    assert tiles["retention_rate"] == pytest.approx(100 * float(years[0]["retention_rate"]), abs=1e-3)
    # and they are the mart's numbers (the browser test checks the same of the drawn page)
    for name, value in expected_tiles(warehouse).items():
        assert tiles[name] == pytest.approx(value, abs=1e-3), name


def test_the_dashboard_charts_of_semantic_metrics_equal_the_mart(demo):
    """The monthly and yearly series read through MetricFlow are the mart's rows, month by month."""
    warehouse, _ = demo
    from dagster_project.dashboard.semantic import read_semantic_numbers

    semantic = read_semantic_numbers(Settings(source_dir=DEMO, warehouse=warehouse))
    with data.published(warehouse) as con:
        months = data.monthly_revenue(con, semantic)
    mart = query(warehouse, "select * from marts.kpi_monthly order by month")
    assert [(m.month, m.is_partial, m.new, m.churned, m.reactivated, m.active) for m in months] == [
        (r["month"], r["is_partial"], r["new_customers"], r["churned_customers"], r["reactivated_customers"],
         r["active_customers"]) for r in mart]
    assert [m.revenue for m in months] == pytest.approx([r["revenue"] for r in mart])
    trend = data.satisfaction_trend(semantic)
    assert [(t.nps.numerator, t.nps.denominator, t.csat_5.numerator, t.csat_5.denominator) for t in trend] == [
        (r["nps_promoters"] - r["nps_detractors"], r["nps_responses"], r["csat_5_responses"], r["csat_responses"])
        for r in mart]
    tiers = data.retention_by_tier(semantic)
    mart_years = query(warehouse, "select * from marts.retention_by_year where tier in ('standard', 'gold') "
                                  "order by year, tier desc")
    assert [(t.year, t.tier, t.is_partial, t.retention.numerator, t.retention.denominator,
             t.repeat_3plus.numerator, t.repeat_3plus.denominator) for t in tiers] == [
        (r["year"], r["tier"], r["is_partial"], r["retained_customers"], r["prior_year_active"],
         r["customers_3plus"], r["active_customers"]) for r in mart_years]


def test_a_failing_metricflow_query_fails_the_dashboard_with_its_message(demo, tmp_path, monkeypatch):
    from dagster_project.dashboard import build_dashboard, semantic

    warehouse, _ = demo
    monkeypatch.setitem(semantic.QUERIES, "customers", (("customers", "no_such_metric"), ("customer__churn_risk",)))
    target = tmp_path / DASHBOARD_FILE
    from dagster_project.semantic_layer import SemanticLayerError

    with pytest.raises(SemanticLayerError, match="no_such_metric"):
        build_dashboard(Settings(source_dir=DEMO, warehouse=warehouse), target)
    assert not target.exists()


def test_a_refresh_whose_dashboard_fails_says_the_mart_is_published_and_fails(tmp_path):
    """The semantic layer's folder beside the warehouse is unusable (a file where mf's project
    folder goes): the mart is published, the dashboard asset fails, and the refresh says both."""
    warehouse = tmp_path / "c360.duckdb"
    warehouse.with_name("c360.metricflow").write_text("not a folder")
    refresh = run_refresh(DEMO, warehouse)
    assert refresh.returncode == 1, refresh.output
    assert f"published {warehouse} as of" in refresh.output
    assert "dashboard NOT rebuilt" in refresh.output and "NOT published" not in refresh.output
    assert "step warehouse__dashboard failed" in refresh.output, refresh.output
    assert query(warehouse, "select count(*) as n from marts.customer_360")[0]["n"] > 0
    assert not warehouse.with_name(DASHBOARD_FILE).exists()


def test_the_value_charts_show_the_mart_and_the_calibration_of_the_fit_in_use(demo):
    """Value segments are marts.customer_value's segments with their summed 365-day values; the
    calibration is the one kept with the fit that scores the mart."""
    warehouse, _ = demo
    with data.published(warehouse) as con:
        segments = data.value_segments(con)
        calibration = data.value_calibration(con)
    rows = query(warehouse, "select * from marts.customer_value")
    by_segment: dict[str, list[dict]] = {}
    for row in rows:
        by_segment.setdefault(row["value_segment"] or "not scored", []).append(row)
    assert [s.segment for s in segments] == [s for s in ("top", "middle", "bottom", "prospect") if s in by_segment]
    for s in segments:
        members = by_segment[s.segment]
        assert s.customers == len(members)
        if s.segment == "prospect":
            assert s.value_365d is None
        else:
            assert s.value_365d == pytest.approx(sum(r["customer_value_365d"] for r in members))
            assert s.value_365d == pytest.approx(s.margin_365d - s.service_cost_365d + s.referral_value_365d)
    top, bottom = segments[0], segments[2]
    assert top.value_365d / top.customers > bottom.value_365d / bottom.customers
    fit_ids = {r["fit_id"] for r in rows} - {None}
    assert fit_ids == {calibration.fit_id}
    kept = query(warehouse, "select * from ops.customer_value_calibration where fit_id = ? order by bucket_order",
                 [calibration.fit_id])
    assert kept and [b["bucket"] for b in calibration.buckets] == [k["bucket"] for k in kept]
    assert sum(b["customers"] for b in calibration.buckets) == calibration.customers
    assert calibration.cutoff == kept[0]["history_as_of"] - dt.timedelta(days=calibration.holdout_days)
    figure = figures.value_calibration(calibration)
    assert [t.name for t in figure.data] == ["actual", "model (MBG/NBD)", "naive: past rate repeated"]
    assert list(figure.data[1].y) == [b["predicted_mean"] for b in calibration.buckets]


def test_metricflow_answers_are_kept_for_the_same_mart_and_asked_again_when_a_row_changes(demo, tmp_path):
    """The dashboard re-uses MetricFlow's answers only for the same semantic layer over the same
    rows (semantic.answers_key): drawn twice from one mart, the second page takes the kept answers
    and is the same; one changed kpi_monthly row asks MetricFlow again, and the page shows it."""
    import shutil

    import duckdb

    from dagster_project.dashboard import build_dashboard

    warehouse, _ = demo
    copy = tmp_path / "copy" / "c360.duckdb"
    copy.parent.mkdir()
    shutil.copy2(warehouse, copy)
    settings = Settings(source_dir=DEMO, warehouse=copy, dbt_target_path=tmp_path / "dbt_target")
    first = build_dashboard(settings, tmp_path / "first.html")
    second = build_dashboard(settings, tmp_path / "second.html")
    assert (first.metricflow_answers_kept, second.metricflow_answers_kept) == (False, True)
    assert second.tiles == first.tiles
    assert len(list((tmp_path / "dbt_target" / "semantic_answers").glob("*.json"))) == 1

    con = duckdb.connect(str(copy))
    try:
        month, revenue = con.execute("select month, revenue from marts.kpi_monthly order by month desc limit 1").fetchone()
        con.execute("update marts.kpi_monthly set revenue = revenue + 1000 where month = ?", [month])
    finally:
        con.close()
    changed = build_dashboard(settings, tmp_path / "changed.html")
    assert not changed.metricflow_answers_kept
    assert len(list((tmp_path / "dbt_target" / "semantic_answers").glob("*.json"))) == 2
    from dagster_project.dashboard.semantic import read_semantic_numbers

    [last] = [m for m in read_semantic_numbers(settings).months if m.month == month]
    assert last.revenue == pytest.approx(float(revenue) + 1000)
