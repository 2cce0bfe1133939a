"""A page's HTML tells Streamlit's front end where the server is (issue 23): opened at ``/explorer`` without it,
the front end first asked ``/explorer/_stcore/health``, was refused, waited 100 ms and asked ``/_stcore/health``.
The browser's side is checked in ``tests/e2e/test_first_view.py``."""

from __future__ import annotations

import asyncio
import gzip

from dashboard import server

HTML = b"<!DOCTYPE html>\n<html lang='en'>\n  <head>\n    <meta charset='UTF-8' />\n  </head><body></body></html>"


def _serve(
    path: str,
    body: bytes = HTML,
    content_type: bytes = b"text/html; charset=utf-8",
    status: int = 200,
    method: str = "GET",
    chunks: int = 1,
):
    """Ask the guarded app for ``path``: Streamlit's app stands in as a file server sending ``body`` (gzipped when
    the request accepts it, as Streamlit's does) in ``chunks`` parts. Returns (the scope the app saw, the messages
    sent to the browser)."""
    seen, sent = [], []

    async def app(scope, receive, send):
        seen.append(scope)
        gz = any(k == b"accept-encoding" and b"gzip" in v for k, v in scope["headers"])
        data = gzip.compress(body) if gz else body
        headers = [(b"content-type", content_type), (b"content-length", str(len(data)).encode())]
        if gz:
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        step = max(1, len(data) // chunks)
        parts = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
        for k, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": k < len(parts) - 1})

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"localhost"), (b"accept-encoding", b"gzip, deflate")]
    scope = {"type": "http", "path": path, "method": method, "query_string": b"", "headers": headers}
    asyncio.run(server.guard(app, None)(scope, None, send))
    return seen[0], sent


def _body(sent) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_pages_html_starts_with_the_servers_base_and_keeps_a_true_length():
    for path, up in [("/", "./"), ("/explorer", "./"), ("/meeting", None), ("/data", "./")]:
        scope, sent = _serve(path, chunks=3)
        if up is None:  # not a page of this app: as Streamlit sent it (compressed)
            assert dict(sent[0]["headers"]).get(b"content-encoding") == b"gzip"
            continue
        assert not any(k == b"accept-encoding" for k, _ in scope["headers"])  # asked uncompressed, to be read
        body = _body(sent)
        script = f'<script>window.__streamlit = {{BACKEND_BASE_URL: new URL("{up}", location.href).href}}</script>'
        assert body.startswith(HTML[: HTML.index(b"<head>")] + b"<head>" + script.encode())
        assert body.replace(script.encode(), b"") == HTML  # nothing else changed
        start = sent[0]
        assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()
        assert sum(k == b"content-length" for k, _ in start["headers"]) == 1
        assert dict(start["headers"])[b"x-frame-options"] == b"SAMEORIGIN"  # the security headers still added


def test_the_base_is_relative_so_a_proxy_prefix_holds():
    assert b'new URL("./", location.href)' in server.base_script("/explorer")  # /csp/explorer -> /csp/
    assert b'new URL("../", location.href)' in server.base_script("/explorer/")  # /csp/explorer/ -> /csp/
    assert b'new URL("./", location.href)' in server.base_script("/")


def test_other_responses_pass_unchanged():
    js = b"export const x = 1;"
    scope, sent = _serve("/static/js/index.js", body=js, content_type=b"application/javascript")
    assert any(k == b"accept-encoding" for k, _ in scope["headers"])  # the front end's files: compressed as before
    assert gzip.decompress(_body(sent)) == js
    _, sent = _serve("/explorer", status=304, body=b"")  # a page the browser has: no body to change
    assert sent[0]["status"] == 304 and _body(sent) == b""
    scope, _ = _serve("/explorer", method="HEAD")  # HEAD: left to Streamlit as it was
    assert any(k == b"accept-encoding" for k, _ in scope["headers"])
    _, sent = _serve("/explorer", body=b'{"not": "html"}', content_type=b"application/json")
    assert _body(sent) == b'{"not": "html"}'
