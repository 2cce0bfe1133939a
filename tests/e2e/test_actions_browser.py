"""The partnership's loop in Debian's headless Chromium: an analyst creates an action from a patrol
zone, a signed-in partner sees it on its priority's slide and outlined on the map explorer, the kiosk
and the public never see it, and it is assessed once the months after its start are loaded."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import BUNDLED_POLICE, REPO, write_config
from tests.e2e.conftest import ARTIFACTS, SLIDES, map_frame, serve, wait_for_meeting

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
WHAT = "Evening foot patrols in hot zone one"


def _sign_in(page, url: str, user: str) -> None:
    page.goto(url)
    wait_for_meeting(page)
    page.get_by_role("textbox", name="User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {user}").wait_for(timeout=30_000)


def _later_months(folder) -> list[str]:
    """2025-07 and 2025-08 as police.uk files (2025-06's rows, dated later): the months after the action."""
    with zipfile.ZipFile(BUNDLED_POLICE) as z:
        text = z.read("2025-06/2025-06-hertfordshire-street.csv").decode()
    out = []
    for month in ("2025-07", "2025-08"):
        path = folder / f"{month}-hertfordshire-street.csv"
        path.write_text(text.replace(",2025-06,", f",{month},"))
        out.append(str(path))
    return out


def test_an_action_from_a_patrol_zone_reaches_the_partners_slide_not_the_kiosk_and_is_assessed(tmp_path, page):
    from dashboard import accounts

    cfg = write_config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace("[store]", f'[access]\naccounts = "{tmp_path / "accounts.json"}"\n\n[store]')
    )
    for name, role in (("ana", "analyst"), ("vera", "viewer")):
        accounts.add(tmp_path / "accounts.json", name, role, PASSWORD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url = serve(cfg)
    try:
        # the analyst: a new action in the first patrol zone of the latest 3 months, starting 2025-06
        _sign_in(page, url, "ana")
        page.locator("[data-testid='stSidebarNav'] a", has_text="Actions").click()
        page.get_by_role("heading", name="Actions").wait_for(timeout=60_000)
        page.get_by_text("A patrol zone").click()
        page.get_by_text("Patrol zone (2025-04 to 2025-06)").wait_for(timeout=90_000)
        page.get_by_role("textbox", name="What").fill(WHAT)
        page.get_by_role("textbox", name="Owner (partner organisation)").fill("Hertfordshire Constabulary")
        for label, (year, month, day) in (("Start", ("2025", "06", "01")), ("Next review", ("2025", "09", "01"))):
            for part, value in (("year", year), ("month", month), ("day", day)):  # react-aria date segments
                page.get_by_role("spinbutton", name=f"{part}, {label}").click()
                page.keyboard.type(value)
        page.keyboard.press("Tab")
        page.get_by_role("button", name="Create the action").click()
        page.get_by_text("Created action A0001.").wait_for(timeout=60_000)  # kept across the page's rerun
        # the table is a canvas grid: its accessible cells are in the page but never "visible"
        page.locator("[data-testid^='glide-cell']", has_text=WHAT).first.wait_for(state="attached", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "actions-created.png"), full_page=True)

        # not yet assessable: the months after the start are not loaded
        page.get_by_role("button", name="Assess").click()
        page.get_by_text("No assessment yet").wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "police.uk is not loaded for 2 months: 2025-07, 2025-08" in body, body[body.find("Did it") :][:800]

        # a partner sees it on P1's slide, with its status and review date flagged as passed
        partner = page.context.browser.new_page(viewport={"width": 1400, "height": 1100})
        _sign_in(partner, url, "vera")
        slide = partner.locator("section.csp-slide[aria-label^='P1 ']")
        slide.get_by_text(WHAT).wait_for(timeout=60_000)
        text = slide.inner_text()
        assert "NOT STARTED, review 2025-09-01" in text and "REVIEW OVERDUE" in text
        slide.screenshot(path=str(ARTIFACTS / "actions-partner-slide.png"))
        # and outlined where it acts on the map explorer, labelled with its id; not for the public
        partner.locator("[data-testid='stSidebarNav'] a", has_text="Map explorer").click()
        frame = map_frame(partner, timeout=90)
        frame.locator("path.action-outline").first.wait_for(state="attached", timeout=30_000)
        assert "A0001" in frame.inner_text("body")
        public = page.context.browser.new_page(viewport={"width": 1400, "height": 1100})
        public.goto(f"{url}/explorer")
        frame = map_frame(public, timeout=90)
        assert frame.locator("path.ward-area").count() == 20 and frame.locator("path.action-outline").count() == 0

        # the kiosk: every slide, never the action
        kiosk = page.context.browser.new_page(viewport={"width": 1280, "height": 720})
        kiosk.goto(f"{url}/?mode=meeting&every=3")
        seen = set()
        for _ in range(60):
            kiosk.wait_for_timeout(500)
            html = kiosk.inner_html("body")
            assert WHAT not in html
            label = kiosk.locator(".csp-kiosk section.csp-slide:not([hidden])")  # the one on screen
            if label.count():
                seen.add(label.first.get_attribute("aria-label"))
            if len(seen) == SLIDES:
                break
        assert len(seen) == SLIDES and any(s.startswith("P1 ") for s in seen), seen

        # later months arrive (the command line, while the server runs); the analyst assesses again
        out = subprocess.run(
            [sys.executable, "-m", "dashboard.cli", "ingest", "police", *_later_months(tmp_path), "--config", str(cfg)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert out.returncode == 0, out.stderr
        page.get_by_role("button", name="Assess").click()
        page.get_by_text("Before: 2025-03 to 2025-05; after: 2025-06 to 2025-08").wait_for(timeout=60_000)
        body = page.inner_text("body")
        said = body[body.find("Did it work?") :][:2000]
        assert re.search(r"Relative effect size \d+\.\d\d \(95% interval \d+\.\d\d to \d+\.\d\d\)", said), said
        assert "target" in said and "buffer" in said and "control" in said and "Buffer: 300 m" in said
        page.screenshot(path=str(ARTIFACTS / "actions-assessed.png"), full_page=True)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
