"""The local basemap: byte ranges of the PMTiles file served by the app itself."""

from __future__ import annotations

import asyncio

import pytest

from dashboard import basemap
from dashboard.render import maps
from tests.basemap_fixture import build


def test_byte_ranges_follow_rfc_9110():
    assert basemap.byte_range(None, 100) is None
    assert basemap.byte_range("bytes=0-9", 100) == (0, 9)
    assert basemap.byte_range("bytes=90-", 100) == (90, 99)
    assert basemap.byte_range("bytes=-10", 100) == (90, 99)
    assert basemap.byte_range("bytes=95-200", 100) == (95, 99)  # clipped to the file
    for bad in ("bytes=100-", "bytes=5-2", "bytes=-", "items=0-1", "bytes=0-1,5-6", "bytes=-0"):
        with pytest.raises(ValueError):
            basemap.byte_range(bad, 100)


def _ask(path, method="GET", range_header=None):
    sent = []

    async def send(message):
        sent.append(message)

    headers = [(b"range", range_header.encode())] if range_header else []
    asyncio.run(
        basemap.respond({"type": "http", "method": method, "path": basemap.URL, "headers": headers}, send, path)
    )
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


def test_the_pmtiles_file_is_served_whole_or_by_range(tmp_path):
    path = build(tmp_path / "basemap.pmtiles")
    data = path.read_bytes()
    status, headers, body = _ask(path)
    assert status == 200 and body == data and headers[b"accept-ranges"] == b"bytes"
    status, headers, body = _ask(path, range_header="bytes=0-126")  # the PMTiles v3 header
    assert status == 206 and body == data[:127] and body[:7] == b"PMTiles"
    assert headers[b"content-range"] == f"bytes 0-126/{len(data)}".encode()
    assert _ask(path, range_header=f"bytes={len(data)}-")[0] == 416
    assert _ask(path, method="POST")[0] == 405
    assert _ask(path, method="HEAD", range_header="bytes=0-9")[2] == b""


def test_a_map_asks_for_the_basemap_only_when_configured_and_tiles_win():
    bounds = (-0.45, 51.70, -0.20, 51.88)
    assert maps.base_map(bounds)["basemap"] is None
    assert maps.base_map(bounds, basemap=True)["basemap"]["url"] == basemap.URL
    both = maps.base_map(bounds, "http://tiles.example/{z}/{x}/{y}.png", "x", basemap=True)
    assert both["basemap"] is None and both["tiles"]["url"].startswith("http://tiles.example/")
