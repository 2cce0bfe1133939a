"""The map component takes render messages only from the app's own page (issue 24, medium 4): it accepted
them from any window, so a page that framed or opened the dashboard could replace the map with invented
areas, labels and tiles. Here the component's own page is served beside Leaflet as the app serves it, a
page of the same origin embeds it as Streamlit does, and a page of another origin posts to it."""

from __future__ import annotations

import json
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.app.test_mapview import _spec
from tests.conftest import REPO

pytestmark = pytest.mark.browser

PARENT = """<!doctype html><html><body>
<iframe id="c" src="/component/index.html" style="width:600px;height:400px"></iframe>
<script>window.got = []; window.addEventListener("message", e => window.got.push(e.data && e.data.type));</script>
</body></html>"""
#: A page of another origin (localhost, not 127.0.0.1) posting a map of its own to the component.
ATTACKER = """<!doctype html><html><body><script>
parent.frames[0].postMessage({type: "streamlit:render", args: {spec: SPEC, height: 300}}, "*");
document.title = "posted";
</script></body></html>"""


class _Handler(SimpleHTTPRequestHandler):
    """/app/static/... from dashboard/static (as the app serves it), the component's page, and the two test pages."""

    pages: dict[str, str] = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path in self.pages:
            body = self.pages[self.path].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/app/static/"):
            self.path = "/dashboard/static/" + self.path.removeprefix("/app/static/")
        elif self.path == "/component/index.html":
            self.path = "/dashboard/render/mapview/index.html"
        else:
            self.send_error(404)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    spec = json.dumps(_spec("Invented ward"))
    handler = partial(_Handler, directory=str(REPO))
    _Handler.pages = {"/parent.html": PARENT, "/attacker.html": ATTACKER.replace("SPEC", spec)}
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _component(page):
    return next(f for f in page.frames if f.url.endswith("/component/index.html"))


def _drawn(frame) -> str | None:
    return frame.evaluate("document.body.dataset.mapState || null")


def test_only_the_apps_own_page_can_draw_the_map(site, page):
    page.goto(f"http://127.0.0.1:{site}/parent.html")
    page.wait_for_function("window.got.includes('streamlit:componentReady')", timeout=30_000)
    frame = _component(page)
    assert frame.evaluate("typeof L") == "object"  # Leaflet loaded from the app's own static path

    # another origin posts a map: ignored
    page.evaluate(
        f"""() => {{ const f = document.createElement("iframe");
                     f.src = "http://localhost:{site}/attacker.html"; document.body.appendChild(f); }}"""
    )
    deadline = time.time() + 20
    while time.time() < deadline and not any(
        f.url.endswith("/attacker.html") and f.title() == "posted" for f in page.frames
    ):
        time.sleep(0.1)
    time.sleep(1.0)
    assert _drawn(frame) is None and frame.locator(".leaflet-interactive").count() == 0

    # the app's own page, but not in the component's message format: ignored (no error drawn either)
    spec = json.dumps(_spec("St Peters"))
    for args in ('{spec: "x", height: 300}', f'{{spec: {spec}, height: "300px"}}', f"{{spec: {spec}}}", "null"):
        page.evaluate(
            f'document.getElementById("c").contentWindow.postMessage({{type: "streamlit:render", args: {args}}}, "*")'
        )
    time.sleep(1.0)
    assert _drawn(frame) is None and "could not be drawn" not in frame.inner_text("body")

    # the app's own page in the protocol's format: drawn
    page.evaluate(
        f'document.getElementById("c").contentWindow.postMessage({{type: "streamlit:render", '
        f'args: {{spec: {spec}, height: 300}}}}, "*")'
    )
    frame.wait_for_selector("body[data-map-state='complete']", timeout=20_000)
    assert "St Peters" in frame.inner_text("body") and "Invented ward" not in frame.inner_text("body")


#: The app's page as Streamlit is, recording every message the component sends (type and value).
RECORDER = """<!doctype html><html><body>
<iframe id="c" src="/component/index.html" style="width:600px;height:400px"></iframe>
<script>window.sent = []; window.addEventListener("message", e => window.sent.push(e.data));</script>
</body></html>"""


def test_a_first_map_is_drawn_without_waiting_for_the_streets_and_reports_itself_drawn(site, page):
    """Issue 23: the map drew its wards only once it had fetched ``/streets.json`` (a round trip and the server's
    work before the first paint); the streets now come under the areas when they arrive, and a map that cannot
    have them still shows its areas. A quick first map (``partial``) reports itself drawn, so the page's next run
    computes the rest (dashboard/views/explorer.py); a whole map does not."""
    _Handler.pages["/recorder.html"] = RECORDER
    spec = _spec("St Peters")
    spec["streets"] = {"url": "/streets.json", "attribution": "OpenStreetMap"}  # 404 from this test's server
    page.goto(f"http://127.0.0.1:{site}/recorder.html")
    page.wait_for_function("window.sent.some(m => m && m.type === 'streamlit:componentReady')", timeout=30_000)
    frame = _component(page)

    def post(s):
        page.evaluate(
            f'document.getElementById("c").contentWindow.postMessage({{type: "streamlit:render", '
            f'args: {{spec: {json.dumps(s)}, height: 300}}}}, "*")'
        )

    values = "window.sent.filter(m => m && m.type === 'streamlit:setComponentValue').map(m => m.value)"
    post({**spec, "partial": True})
    frame.wait_for_selector("body[data-map-state='partial']", timeout=20_000)
    page.wait_for_function(f"{values}.length === 1", timeout=20_000)
    assert frame.locator("path.leaflet-interactive").count() == 4  # both areas, outlined and filled: no streets needed
    assert "could not be drawn" not in frame.inner_text("body")
    assert set(page.evaluate(values)[0]) == {"drawn"}  # no "id": the page does not take it for a click
    post(spec)  # the whole map, drawn in place: it reports nothing
    frame.wait_for_selector("body[data-map-state='complete']", timeout=20_000)
    time.sleep(0.5)
    assert len(page.evaluate(values)) == 1
