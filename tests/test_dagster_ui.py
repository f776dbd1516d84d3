"""`dagster dev` (what `make ui` runs) serves the whole asset graph: source groups, dbt layers,
checks and the schedule, read back through the webserver's GraphQL API."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dagster_project.instance import ensure_dagster_home
from dagster_project.settings import Settings, child_environment

from .conftest import ROOT

QUERY = """
{
  assetNodes { assetKey { path } groupName hasAssetChecks }
  repositoriesOrError { ... on RepositoryConnection { nodes { schedules { name cronSchedule } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]


def test_dagster_dev_serves_the_asset_graph(tmp_path):
    port = _free_port()
    env = child_environment(DAGSTER_HOME=str(tmp_path))
    ensure_dagster_home(Settings(source_dir=tmp_path, warehouse=tmp_path / "c360.duckdb", dagster_home=tmp_path))
    dagster = Path(sys.executable).parent / "dagster"
    proc = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-p", str(port), "-h", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        data, deadline = None, time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                data = _graphql(port)
                if data["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(2)
        assert data and data["assetNodes"], "dagster dev did not serve the asset graph in time"
        groups = {node["groupName"] for node in data["assetNodes"]}
        assert {"sales", "service", "survey", "staging", "intermediate", "value", "marts", "publish"} <= groups
        keys = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
        assert {"sales/orders", "service/tickets", "survey/responses", "marts/customer_360"} <= keys
        assert any(node["hasAssetChecks"] for node in data["assetNodes"])
        schedules = [s for repo in data["repositoriesOrError"]["nodes"] for s in repo["schedules"]]
        assert {"name": "daily_refresh_schedule", "cronSchedule": "0 6 * * *"} in schedules
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
