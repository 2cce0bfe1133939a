"""End to end in Debian's headless Chromium: start the app as the README does and look at it."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO, write_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
    cfg = write_config(tmp_path_factory.mktemp("browser"))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--config", str(cfg),
                             "--port", str(port)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"the app did not start: {proc.stdout.read().decode()[-2000:]}")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.requests_seen = []
        pg.on("request", lambda r: pg.requests_seen.append(r.url))
        yield pg
        browser.close()


def _ward_paths(page) -> int:
    return page.locator("[data-testid='stVegaLiteChart'] svg path[aria-roledescription='geoshape']").count()


def test_ward_map_draws_20_wards_offline_and_filter_changes_it(server, page):
    page.goto(server)
    page.wait_for_function(
        "document.querySelectorAll(\"[data-testid='stVegaLiteChart'] svg path[aria-roledescription='geoshape']\")"
        ".length >= 20", timeout=60_000)
    assert _ward_paths(page) == 20
    metric = page.locator("[data-testid='stMetricValue']").first
    assert metric.inner_text() == "11,444"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "entry-page.png"), full_page=True)

    page.locator("[data-testid='stMultiSelect']").first.click()
    page.get_by_role("option", name="Burglary", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function("document.querySelector(\"[data-testid='stMetricValue']\").innerText !== '11,444'",
                           timeout=30_000)
    assert int(metric.inner_text().replace(",", "")) < 11_444
    assert _ward_paths(page) == 20
    page.screenshot(path=str(ARTIFACTS / "entry-page-burglary.png"), full_page=True)

    hosts = {urlparse(u).hostname for u in page.requests_seen if u.startswith("http")}
    assert hosts == {"127.0.0.1"}, hosts
