"""The explorer's cold-start benchmark (``benchmarks/bench_explorer_peer.py``) counts a map as painted only when
its areas are drawn in a frame that is seen: checked here in Chromium on constructed pages whose answer is known."""

from __future__ import annotations

import html
import json
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser

sys.path.insert(0, str(REPO / "benchmarks"))
from bench_explorer_peer import SEEN_JS  # noqa: E402  (a script's folder, not a package)


def _frame(paths: int, style: str, name: str) -> str:
    drawn = "".join('<path class="ward-area" d="M0 0L9 9"/>' for _ in range(paths))
    srcdoc = html.escape(f"<svg>{drawn}</svg>")
    return f'<iframe id="{name}" style="display:block;border:0;width:400px;{style}" srcdoc="{srcdoc}"></iframe>'


def test_the_benchmark_counts_a_map_only_once_all_its_areas_are_in_a_seen_frame(page):
    page.add_init_script(SEEN_JS.replace("__SELECTOR__", json.dumps("path.ward-area")).replace("__N__", "20"))
    body = (
        _frame(19, "height:600px", "short")  # seen, but one area short
        + _frame(20, "height:0", "flat")  # every area, no height yet (the explorer's old frame)
        + _frame(20, "position:absolute;top:5000px;height:600px", "below")  # every area, out of the window
    )
    page.route(
        "http://bench.test/",
        lambda route: route.fulfill(body=f"<body style='margin:0'>{body}</body>", content_type="text/html"),
    )
    page.goto("http://bench.test/")
    page.wait_for_function(  # all three drawn
        """[...document.querySelectorAll('iframe')].filter(
             (f) => f.contentDocument && f.contentDocument.querySelectorAll('path').length >= 19).length === 3"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("window.__seenAt || null") is None
    before = page.evaluate("performance.timeOrigin + performance.now()")
    page.evaluate("document.getElementById('flat').style.height = '620px'")  # now 500 px of it in the window
    page.wait_for_function("window.__seenAt", timeout=5_000)
    seen = page.evaluate("window.__seenAt")
    assert before <= seen <= before + 1_000
