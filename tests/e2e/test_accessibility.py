"""axe-core (tests/vendor/axe-core) on every page of the app, its main column and its sidebar, and on the
kiosk: no serious and no critical violation (issue 22), and headings in order."""

from __future__ import annotations

import gzip

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import wait_for_meeting

pytestmark = pytest.mark.browser

AXE = REPO / "tests" / "vendor" / "axe-core" / "axe.min.js.gz"

#: Every page of dashboard/app.py (the test server runs in local mode: an admin sees them all), with what it
#: paints last.
PAGES = (
    ("", "section.csp-slide"),
    ("explorer", "iframe"),
    ("trends", ".vega-embed svg"),
    ("patrol", "[data-testid='stMain'] h1"),
    ("actions", "[data-testid='stMain'] h1"),
    ("wards", "svg.static-map"),
    ("flytipping", "[data-testid='stMain'] h1"),
    ("data", "[data-testid='stMain'] h1"),
)


#: Rules of lesser impact checked too: a new user's scan found section headings (h3) under the page's title (h1).
MODERATE = ("heading-order",)


def _axe(pg, context: str) -> list[dict]:
    """axe-core's serious and critical violations in ``context`` (a CSS selector) of the page, and those of
    :data:`MODERATE`."""
    pg.add_script_tag(content=gzip.decompress(AXE.read_bytes()).decode("utf-8"))
    result = pg.evaluate("async (ctx) => await axe.run(ctx, {resultTypes: ['violations']})", context)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] in MODERATE
    ]


def test_axe_finds_no_serious_violation_on_any_page_main_and_sidebar_nor_the_kiosk(server, page):
    found = {}
    for path, painted in PAGES:
        page.goto(f"{server}/{path}")
        if path == "":
            wait_for_meeting(page)
        page.wait_for_selector(painted, timeout=90_000)
        page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=90_000)
        for part in ("[data-testid='stMain']", "[data-testid='stSidebar']"):
            found[(path or "meeting", part)] = _axe(page, part)
        if path == "data":  # sections are h2 at the size Streamlit gives h3 (serve's theme: a JSON list, or none)
            sizes = page.evaluate(
                "['h1', 'h2'].map((t) =>"
                " getComputedStyle(document.querySelector(`[data-testid='stMain'] ${t}`)).fontSize)"
            )
            assert sizes == ["44px", "28px"], sizes
    page.goto(f"{server}/?mode=meeting&every=60")
    page.wait_for_selector(".csp-kiosk section.csp-slide", timeout=90_000)
    found[("kiosk", "body")] = _axe(page, "body")
    assert {k: v for k, v in found.items() if v} == {}
