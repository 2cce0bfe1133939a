"""Serve the config's local basemap file (``[map] basemap``, a PMTiles archive) from the app itself.

PMTiles readers fetch byte ranges of one file (HTTP Range requests), so the map needs no tile
server and no request leaves the machine. :func:`respond` answers ``GET``/``HEAD`` of
:data:`URL` with the whole file or one ``bytes=a-b`` range (RFC 9110 section 14); it is called by
the server's ASGI wrapper (``dashboard/server.py``) before Streamlit sees the request.

Bounded (four anonymous requests for large ranges once took the server to 3.36 GB and held a health
check 4.5 s): a response is read :data:`CHUNK` bytes at a time in a worker thread (``asyncio.to_thread``,
never on the event loop) and sent as it is read; a range (or a whole file) larger than
:data:`MAX_RANGE` is refused (416); at most :data:`MAX_PARALLEL` responses are read at once and at most
:data:`MAX_WAITING` more wait for a turn, others get 503. So the basemap holds at most
``MAX_PARALLEL * CHUNK`` bytes of the file in memory, whatever is asked.
"""

from __future__ import annotations

import asyncio
import os
import re
import weakref
from pathlib import Path

#: Where the basemap is served (one file per server; the page asks for it only when configured).
URL = "/basemap.pmtiles"
#: Where the offline streets (``[map] streets``, :func:`geodata.basemap.wgs84_json`) are served, gzipped JSON.
STREETS_URL = "/streets.json"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: Bytes read and sent at a time; the largest range (or whole file) served; responses read at once, and
#: how many more may wait for a turn (module docstring). PMTiles readers ask for 16 KiB headers,
#: directories and single tiles (well under a megabyte each).
CHUNK, MAX_RANGE = 256 * 1024, 16 * 1024 * 1024
MAX_PARALLEL, MAX_WAITING = 4, 32
_turns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a semaphore per event loop (the server has one)
_waiting = 0


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


def _pread(fd: int, n: int, offset: int) -> bytes:
    """``n`` bytes of the open file ``fd`` from ``offset`` (run in a worker thread)."""
    return os.pread(fd, n, offset)


async def respond(scope, send, path: Path) -> None:
    """Answer an HTTP ``scope`` for :data:`URL` with the file at ``path`` (bounded: module docstring)."""
    global _waiting
    if scope["method"] not in ("GET", "HEAD"):
        await _plain(send, 405, b"method not allowed")
        return
    size = os.path.getsize(path)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    try:
        span = byte_range(headers.get("range"), size)
        first, last = span if span else (0, size - 1)
        if last - first + 1 > MAX_RANGE:
            raise ValueError(f"{last - first + 1} bytes asked, at most {MAX_RANGE} served")
    except ValueError:
        await _plain(send, 416, b"range not satisfiable", [(b"content-range", f"bytes */{size}".encode())])
        return
    out = [
        (b"content-type", b"application/octet-stream"),
        (b"accept-ranges", b"bytes"),
        (b"content-length", str(last - first + 1).encode()),
        (b"cache-control", b"private, max-age=3600"),
    ]
    if span:
        out.append((b"content-range", f"bytes {first}-{last}/{size}".encode()))
    if scope["method"] == "HEAD":
        await send({"type": "http.response.start", "status": 206 if span else 200, "headers": out})
        await send({"type": "http.response.body", "body": b""})
        return
    turns = _turns.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(MAX_PARALLEL))
    if turns.locked() and _waiting >= MAX_WAITING:
        await _plain(send, 503, b"busy: try again", [(b"retry-after", b"1")])
        return
    _waiting += 1
    try:
        await turns.acquire()
    finally:
        _waiting -= 1
    try:
        await send({"type": "http.response.start", "status": 206 if span else 200, "headers": out})
        fd = os.open(path, os.O_RDONLY)
        try:
            at, more = first, True
            while more:
                chunk = await asyncio.to_thread(_pread, fd, min(CHUNK, last - at + 1), at) if at <= last else b""
                at += len(chunk)
                more = bool(chunk) and at <= last  # an empty read: the end, or the file shrank meanwhile
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
        finally:
            os.close(fd)
    finally:
        turns.release()


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
