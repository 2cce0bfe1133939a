"""Browser fixtures for the end-to-end tests: a server started as the README does, a headless Chromium page
(Debian's ``chromium``), and waits for what the app paints. A test without Chromium is skipped with the reason."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import REPO, free_port, start_server, write_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"


def serve(cfg):
    port = free_port()
    command = [sys.executable, "-m", "dashboard.cli", "serve", "--config", str(cfg), "--port", str(port)]
    return start_server(command, port, REPO, timeout=90), f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc, url = serve(write_config(tmp_path_factory.mktemp("browser")))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def page():
    """A headless Chromium page at 1400x1100 that records every request and dialog."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed: apt-get install chromium (.ci/run installs it)")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        pg = browser.new_page(viewport={"width": 1400, "height": 1100})
        pg.requests_seen = []
        pg.dialogs = []
        pg.on("request", lambda r: pg.requests_seen.append(r.url))
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
        yield pg
        browser.close()


#: The bundled meeting's slides: the overview, P1, P2 (DEFRA annual figures), P3, "not measured yet" (P4, P5)
#: and how to read them.
SLIDES = 6


def wait_for_meeting(page, timeout: float = 90) -> None:
    """Wait until the Meeting page has painted its :data:`SLIDES` slides (the other test modules use this too)."""
    drawn = f"document.querySelectorAll('section.csp-slide').length === {SLIDES}"
    page.wait_for_function(drawn, timeout=timeout * 1000)


def map_frame(page, timeout: float = 60):
    """The map component's iframe once its 20 ward polygons are drawn."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for frame in page.frames:
            try:
                if (
                    frame.locator("body[data-map-state='complete']").count()
                    and frame.locator("path.ward-area").count() >= 20
                ):
                    return frame
            except PlaywrightError:  # a frame detached while we looked
                pass
        time.sleep(0.25)
    pytest.fail("the Leaflet map did not draw its ward polygons")
