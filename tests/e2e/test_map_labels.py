"""Every ward named on the maps people look at, at every screen size we ship (issue 22), in Debian's headless
Chromium: the explorer's interactive map (its default view: all 20 names inside the map, no two name boxes
overlapping, no name over another's leader line or under a map control) and the Wards page's static map.
One browser, its page re-sized; one server."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import ARTIFACTS, MAP_LABELS, map_frame, map_labels_ok

pytestmark = pytest.mark.browser

#: 720p, 1080p, 4K, the common laptop and a phone.
VIEWPORTS = ((1280, 720), (1920, 1080), (3840, 2160), (1366, 768), (390, 844))

#: In the map's frame: each ward label's text and box, each leader line's ends (page pixels) and ward, the map
#: controls' boxes and the map's own box.
_LEAFLET_LABELS = """() => {
  const box = (r) => [r.left, r.top, r.right, r.bottom];
  const labels = [...document.querySelectorAll('.leaflet-tooltip.ward-label')].map((e) =>
    [e.textContent, ...box(e.getBoundingClientRect()), parseFloat(getComputedStyle(e).fontSize)]);
  const leaders = [...document.querySelectorAll('path.ward-leader')].map((p) => {
    const m = p.getScreenCTM(), n = p.getTotalLength();
    const ends = [p.getPointAtLength(0), p.getPointAtLength(n)].map((q) => {
      const s = new DOMPoint(q.x, q.y).matrixTransform(m);
      return [s.x, s.y];
    });
    return [p.dataset.ward, ...ends[0], ...ends[1]];
  });
  const controls = [...document.querySelectorAll('.leaflet-control')].map((e) => box(e.getBoundingClientRect()));
  return {labels, leaders, controls, map: box(document.getElementById('map').getBoundingClientRect()),
          clusters: document.querySelectorAll('.marker-cluster').length};
}"""


def _overlap(a, b, tol: float = 0.5) -> bool:
    """Whether boxes (x0, y0, x1, y1) overlap by more than ``tol`` pixels both ways."""
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def _crosses(seg, box, tol: float = 0.5) -> bool:
    """Whether segment ((x0, y0), (x1, y1)) passes through ``box`` shrunk by ``tol`` (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = seg
    bx0, by0, bx1, by1 = box[0] + tol, box[1] + tol, box[2] - tol, box[3] - tol
    t0, t1, dx, dy = 0.0, 1.0, x1 - x0, y1 - y0
    for p, q in ((-dx, x0 - bx0), (dx, bx1 - x0), (-dy, y0 - by0), (dy, by1 - y0)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 < t1


def explorer_labels_ok(found, size) -> None:
    """The 20 ward names in the map, readable, none overlapping another, a leader of another or a control."""
    labels = found["labels"]
    names = [t for t, *_ in labels]
    assert len(names) == 20 and len(set(names)) == 20, (size, names)
    m = found["map"]
    for t, *b, font in labels:
        assert m[0] - 0.5 <= b[0] and b[2] <= m[2] + 0.5 and m[1] - 0.5 <= b[1] and b[3] <= m[3] + 0.5, (size, t, b, m)
        assert font >= 9, (size, t, font)  # shrunk at most to 9 px
        for c in found["controls"]:
            assert not _overlap(b, c), (size, t, b, "under a map control", c)
    for i, (ta, *a, _) in enumerate(labels):
        for tb, *b, _ in labels[i + 1 :]:
            assert not _overlap(a, b), (size, ta, a, tb, b)
    for ward, x0, y0, x1, y1 in found["leaders"]:
        assert ward in names, (size, ward)
        for t, *b, _ in labels:
            if t != ward:
                assert not _crosses(((x0, y0), (x1, y1)), b), (size, "leader of", ward, "over", t, b)


def _placed(page, timeout: float = 60):
    """The explorer map's frame once its ward names are placed (the quick first map's frame is replaced)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        frame = map_frame(page)
        try:
            if frame.evaluate("window.cspLabels !== undefined && window.cspLabels.shown === 20"):
                time.sleep(0.3)  # the second placement (moveend after zoomend) done
                return frame
        except PlaywrightError:  # the frame was replaced while we looked
            pass
        time.sleep(0.25)
    pytest.fail("the explorer's ward names were not placed")


def _check_size(server, page, w: int, h: int) -> None:
    """At w x h: the explorer's default view (then, at 720p and 1080p, zoomed on the city centre) and the Wards page."""
    page.set_viewport_size({"width": w, "height": h})
    page.goto(f"{server}/explorer")  # the default view, fitted to this size
    frame = _placed(page)
    found = frame.evaluate(_LEAFLET_LABELS)
    page.screenshot(path=str(ARTIFACTS / f"explorer-labels-{w}x{h}.png"))
    frame.frame_element().screenshot(path=str(ARTIFACTS / f"explorer-map-{w}x{h}.png"))
    assert found["clusters"] == 0  # clusters are off by default: no bubble on a name
    assert frame.evaluate("window.cspLabels.crowded") == [], (
        w,
        h,
    )  # every name found room, none at its pole regardless
    explorer_labels_ok(found, (w, h))
    if (w, h) in ((1280, 720), (1920, 1080)):  # zoomed on the city centre: its wards' names still apart
        frame.evaluate("window.cspMap.setView([51.7520, -0.3380], 14, {animate: false})")
        frame.wait_for_function("window.cspLabels.zoom === 14", timeout=10_000)
        time.sleep(0.3)
        frame.frame_element().screenshot(path=str(ARTIFACTS / f"explorer-city-centre-{w}x{h}.png"))
        zoomed = frame.evaluate(_LEAFLET_LABELS)
        m = zoomed["map"]
        for t, *b, _ in zoomed["labels"]:  # a name is in view or out of it, never cut at the edge
            outside = b[2] <= m[0] or b[0] >= m[2] or b[3] <= m[1] or b[1] >= m[3]
            assert outside or (
                m[0] - 0.5 <= b[0] and b[2] <= m[2] + 0.5 and m[1] - 0.5 <= b[1] and b[3] <= m[3] + 0.5
            ), (
                (w, h),
                "cut at the edge",
                t,
                b,
            )
        for i, (ta, *a, _) in enumerate(zoomed["labels"]):
            for tb, *b, _ in zoomed["labels"][i + 1 :]:
                assert not _overlap(a, b), ((w, h), "zoomed", ta, a, tb, b)
        frame.evaluate("sessionStorage.clear()")  # the explorer keeps a reader's view: the next opens fitted
    page.goto(f"{server}/wards")
    page.wait_for_selector("svg.static-map >> visible=true", timeout=60_000)
    time.sleep(0.3)
    wards = page.evaluate(MAP_LABELS, "svg.static-map")
    map_labels_ok(wards)
    smallest = min(bottom - top for _, _, top, _, bottom, _ in wards["lines"])
    assert smallest >= 10, ((w, h), "ward names on the Wards map drawn", smallest, "px high")  # 7 px on a phone
    page.locator("svg.static-map >> visible=true").screenshot(path=str(ARTIFACTS / f"wards-map-{w}x{h}.png"))


def test_every_ward_is_named_on_the_explorer_and_wards_maps_at_every_screen_size(server, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for w, h in VIEWPORTS:
        _check_size(server, page, w, h)


def test_cluster_bubbles_never_sit_on_the_ward_names(server, page):
    """Clusters are off by default; switched on, the names are drawn above them (the tooltip pane)."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/explorer")
    frame = map_frame(page)
    frame.locator("path.class-shape").first.wait_for(timeout=60_000)  # the whole map, clusters in its switch
    assert frame.locator(".marker-cluster").count() == 0
    frame.evaluate(
        """() => { for (const l of document.querySelectorAll('.leaflet-control-layers-overlays label'))
                   if (l.textContent.includes('clustered')) l.querySelector('input').click(); }"""
    )
    frame.locator(".marker-cluster").first.wait_for(timeout=10_000)
    under = frame.evaluate(
        """() => [...document.querySelectorAll('.leaflet-tooltip.ward-label')].map((e) => {
             const pane = (el) => el.closest('.leaflet-pane');
             const bubble = document.querySelector('.marker-cluster');
             return Number(getComputedStyle(pane(e)).zIndex) > Number(getComputedStyle(pane(bubble)).zIndex);
           })"""
    )
    assert len(under) == 20 and all(under)


def test_a_layer_switched_on_brings_its_legend_and_takes_it_away(server, page):
    """A new user's find: the LSOA deprivation layer, switched on, had no legend (only the wards' was drawn)."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{server}/explorer")
    frame = map_frame(page)
    frame.locator("path.class-shape").first.wait_for(timeout=60_000)  # the whole map, every layer in its switch
    assert frame.locator(".csp-legend").count() == 1

    def switch(text: str) -> None:
        frame.evaluate(
            """(t) => { for (const l of document.querySelectorAll('.leaflet-control-layers-overlays label'))
                       if (l.textContent.includes(t)) l.querySelector('input').click(); }""",
            text,
        )

    switch("LSOAs: deprivation")
    frame.locator("path.imd-area").first.wait_for(timeout=10_000)
    assert frame.locator(".csp-legend").count() == 2
    assert frame.locator(".csp-legend", has_text="LSOAs: deprivation").count() == 1
    switch("LSOAs: deprivation")
    assert frame.locator(".csp-legend").count() == 1


def test_on_a_phone_the_legend_is_folded_under_its_title_until_tapped(server, page):
    """A new user's find: on a phone the explorer's legend (eight rows) covered about a quarter of the map."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/explorer")
    frame = map_frame(page)
    frame.locator("path.class-shape").first.wait_for(timeout=60_000)  # the whole map, its legend final
    legend = frame.locator(".csp-legend")
    assert legend.count() == 1 and legend.evaluate("e => e.tagName") == "DETAILS"
    assert legend.evaluate("e => e.open") is False and legend.bounding_box()["height"] < 40
    assert legend.locator("summary").inner_text().startswith("Wards:")
    legend.locator("summary").click()
    assert legend.evaluate("e => e.open") is True and legend.bounding_box()["height"] > 100
    assert legend.locator(".sw").first.is_visible()
    assert "ward=" not in page.url  # the tap opened the legend, not the ward under it
