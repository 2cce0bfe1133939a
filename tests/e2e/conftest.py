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


#: On the shown static map (``svg.static-map``) the CSS selector given picks (the first drawn: a page may hold
#: one per screen width): its wards (from their tooltips), the label lines' text and screen boxes (each line's
#: second class names its label).
MAP_LABELS = """(selector) => {
  const svg = [...document.querySelectorAll(selector)].find((s) => s.getBoundingClientRect().width > 0);
  if (!svg) return null;
  const wards = [...svg.querySelectorAll('path.ward-area title')].map((t) => t.textContent.split(': ')[0]);
  const lines = [...svg.querySelectorAll('text.map-label')].map((t) => {
    const r = t.getBoundingClientRect();
    return [t.textContent, r.left, r.top, r.right, r.bottom, t.classList[1]];
  });
  return {wards, lines};
}"""


def map_labels_ok(found) -> None:
    """Every one of the 20 wards named on a static map (:data:`MAP_LABELS`; a long name may be broken over two
    lines) and no two label lines of different labels overlap."""
    assert found is not None, "no static map on the page"
    text = " ".join(t for t, *_ in found["lines"])
    missing = [w for w in found["wards"] if w not in text and not all(p in text for p in w.split(" ", 1))]
    assert len(found["wards"]) == 20 and missing == [], missing
    boxes = found["lines"]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a[5] == b[5]:  # two lines of one label
                continue
            overlap_x = min(a[3], b[3]) - max(a[1], b[1])
            overlap_y = min(a[4], b[4]) - max(a[2], b[2])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, (a, b)
