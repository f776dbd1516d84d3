"""The dashboard: one self-contained HTML page beside the published mart (README, "Quick start").

data.py reads the published file (one function per chart, ratios from their parts), figures.py
draws the Plotly charts, page.py assembles and writes the page atomically.
"""

from .page import DASHBOARD_FILE, Built, build_dashboard

__all__ = ["DASHBOARD_FILE", "Built", "build_dashboard"]
