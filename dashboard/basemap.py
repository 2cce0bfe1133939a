"""Serve the config's local basemap file (``[map] basemap``, a PMTiles archive) from the app itself.

PMTiles readers fetch byte ranges of one file (HTTP Range requests), so the map needs no tile
server and no request leaves the machine. :func:`respond` answers ``GET``/``HEAD`` of
:data:`URL` with the whole file or one ``bytes=a-b`` range (RFC 9110 section 14); it is called by
the server's ASGI wrapper (``dashboard/server.py``) before Streamlit sees the request.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: Where the basemap is served (one file per server; the page asks for it only when configured).
URL = "/basemap.pmtiles"
#: Where the offline streets (``[map] streets``, :func:`geodata.basemap.wgs84_json`) are served, gzipped JSON.
STREETS_URL = "/streets.json"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a ``Range`` header for a file of ``size`` bytes, None
    for the whole file; raises ValueError for a range that cannot be satisfied (416)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise ValueError(f"unsupported range {header!r}")
    first, last = match.groups()
    if first == "":  # the last N bytes
        n = int(last)
        if n == 0:
            raise ValueError("empty suffix range")
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError(f"range {header!r} outside a file of {size} bytes")
    return start, end


async def respond(scope, send, path: Path) -> None:
    """Answer an HTTP ``scope`` for :data:`URL` with the file at ``path``."""
    if scope["method"] not in ("GET", "HEAD"):
        await _plain(send, 405, b"method not allowed")
        return
    size = os.path.getsize(path)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    try:
        span = byte_range(headers.get("range"), size)
    except ValueError:
        await _plain(send, 416, b"range not satisfiable", [(b"content-range", f"bytes */{size}".encode())])
        return
    first, last = span if span else (0, size - 1)
    out = [
        (b"content-type", b"application/octet-stream"),
        (b"accept-ranges", b"bytes"),
        (b"content-length", str(last - first + 1).encode()),
        (b"cache-control", b"private, max-age=3600"),
    ]
    if span:
        out.append((b"content-range", f"bytes {first}-{last}/{size}".encode()))
    await send({"type": "http.response.start", "status": 206 if span else 200, "headers": out})
    body = b""
    if scope["method"] == "GET":
        with open(path, "rb") as f:
            f.seek(first)
            body = f.read(last - first + 1)
    await send({"type": "http.response.body", "body": body})


async def respond_json_gz(scope, send, body: bytes) -> None:
    """Answer an HTTP ``scope`` with gzipped JSON ``body`` (the browser unzips it)."""
    if scope["method"] not in ("GET", "HEAD"):
        await _plain(send, 405, b"method not allowed")
        return
    headers = [
        (b"content-type", b"application/json"),
        (b"content-encoding", b"gzip"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"private, max-age=3600"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})


async def _plain(send, status: int, text: bytes, extra=()) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": text})
