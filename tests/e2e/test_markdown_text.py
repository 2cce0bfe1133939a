"""In the browser, text from data in public tables and notes is shown as the literal text and fetches
nothing (issue 24, medium 3): a ward named with a Markdown image was an image fetched by every visitor."""

from __future__ import annotations

import pytest

from tests.app.test_markdown_from_data import hostile_site  # noqa: F401  (the fixture)
from tests.e2e.conftest import serve

pytestmark = pytest.mark.browser


def test_a_ward_named_as_a_markdown_image_is_text_in_the_public_table(hostile_site, page):  # noqa: F811
    proc, url = serve(hostile_site)
    try:
        page.goto(f"{url}/wards")
        page.wait_for_selector("[data-testid='stTable'] table", timeout=90_000)
        page.wait_for_function(
            "document.querySelector('[data-testid=stTable]').innerText.includes('Ward !')", timeout=30_000
        )
        text = page.inner_text("[data-testid='stTable']").replace("\u2060", "")  # the invisible word joiner
        assert "Ward ![x](http://127.0.0.1:9/fetch.png)" in text and "Ward [click](https://evil.example/)" in text
        assert "Ward www.evil.example" in text and "&#" not in text and "&amp;" not in text
        table = page.locator("[data-testid='stTable']")
        links = table.locator("a").evaluate_all("els => els.map(e => [e.href, e.textContent])")
        assert table.locator("img").count() == 0 and not links, links
        assert not [u for u in page.requests_seen if "127.0.0.1:9/" in u or "evil.example" in u]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
