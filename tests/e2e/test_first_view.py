"""The Map explorer's first view in Chromium (issue 23): its wards are seen first and stay seen while the rest of
the page comes, and the front end finds the server at once."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.browser


def _map(page):
    """(the map frame's height in px, or None while it is not seen; its ward areas drawn; its state; its top in the
    page, px), or None before the map's frame exists."""
    for frame in page.frames:
        if frame.parent_frame is None:
            continue
        try:
            box = frame.frame_element().bounding_box()
            return (
                None if box is None else box["height"],
                frame.locator("path.ward-area").count(),
                frame.evaluate("document.body.dataset.mapState || ''"),
                None if box is None else box["y"] + page.evaluate("window.scrollY"),
            )
        except PlaywrightError:  # a frame detached while we looked
            return None
    return None


@pytest.mark.parametrize("size", [(1400, 1100), (390, 844)], ids=["desktop", "phone"])
def test_the_first_map_is_seen_at_once_and_stays_seen_while_the_statistics_come(server, page, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    documents = []
    page.on("request", lambda r: r.resource_type == "document" and "/component/" in r.url and documents.append(r.url))
    page.goto(f"{server}/explorer")
    states = []
    deadline = time.time() + 90
    while time.time() < deadline:
        page.evaluate("1")  # lets the page's events in
        state = _map(page)
        # from the first sight of it: under load the frame's areas were once in its page a moment before the page
        # gave the frame its height (nothing seen yet, so not a sight of the map)
        if state is not None and state[1] == 20 and (states or state[0] is not None):
            states.append(state)
            if state[2] == "complete":
                break
        time.sleep(0.05)
    assert states and states[-1][2] == "complete", states[-3:]
    assert states[0][2] == "partial"  # the quick map first
    # seen when first drawn (its frame already at the map's height); that the first run draws no filter widget is
    # checked by the page's own test (tests/app/test_explorer.py): sampled here, a loaded machine missed the moment
    assert states[0][0] == 620, states[0]
    # seen throughout: the second run used to send the map's place again empty, and the map vanished for the
    # second of statistics (the frame's box gone) before the whole map came
    assert all(h == 620 and n == 20 for h, n, _, _ in states), [s for s in states if s[0] != 620 or s[1] != 20][:3]
    # and where it was first seen: what the second run adds (the method line, the notes) comes below the map, and
    # the figures above it keep their places (a phone stacks them)
    assert max(abs(top - states[0][3]) for *_, top in states) <= 2, [s[3] for s in states]
    assert len(documents) == 1, documents  # updated in place: the frame was never reloaded
    page.locator("[data-testid='stSidebar'] [data-testid='stSlider']").wait_for(state="attached", timeout=30_000)
    page.get_by_role("heading", name="Wards", exact=True).wait_for(timeout=30_000)  # the second run drawn whole
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    last = _map(page)
    assert last is not None and abs(last[3] - states[0][3]) <= 2, (states[0], last)
    # the front end asked the server's own address first: no probe under the page's path (refused, then 100 ms lost)
    assert not [u for u in page.requests_seen if "/explorer/_stcore/" in u], page.requests_seen
    assert any(u.endswith("/_stcore/health") for u in page.requests_seen)
