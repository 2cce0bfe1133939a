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


def _request(range_header: str | None) -> dict:
    headers = [(b"range", range_header.encode())] if range_header else []
    return {"type": "http", "method": "GET", "path": basemap.URL, "headers": headers}


def test_ranges_are_streamed_in_bounded_chunks_off_the_event_loop_and_capped(tmp_path, monkeypatch):
    """Issue 24, medium 6: a range was read whole into memory on the event loop (four anonymous requests of
    a large file reached 3.36 GB; a health check waited 4.5 s). Now each message holds at most CHUNK bytes,
    each read runs in a worker thread (a slow disk does not stall the loop), and a range over MAX_RANGE is
    refused."""
    import time

    path = tmp_path / "big.pmtiles"
    data = bytes(range(256)) * (3 * basemap.CHUNK // 256 + 7)
    path.write_bytes(data)
    real = basemap._pread

    def slow(fd, n, offset):  # a slow disk: 0.2 s a read
        time.sleep(0.2)
        return real(fd, n, offset)

    monkeypatch.setattr(basemap, "_pread", slow, raising=False)

    async def run():
        sent, gaps = [], []

        async def send(message):
            sent.append(message)

        async def ticker():  # what a health check sees: the loop's longest stall
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        await basemap.respond(_request("bytes=5-"), send, path)
        tick.cancel()
        return sent, max(gaps)

    sent, stall = asyncio.run(run())
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert b"".join(m["body"] for m in bodies) == data[5:] and not bodies[-1].get("more_body")
    assert len(bodies) >= 4 and max(len(m["body"]) for m in bodies) <= basemap.CHUNK
    assert stall < 0.15, stall  # each 0.2 s read ran off the loop
    monkeypatch.setattr(basemap, "MAX_RANGE", 2 * basemap.CHUNK, raising=False)
    assert _ask(path, range_header="bytes=0-")[0] == 416 and _ask(path)[0] == 416  # a whole file is a range too
    assert _ask(path, range_header="bytes=0-99")[0] == 206


def test_parallel_basemap_reads_are_capped(tmp_path, monkeypatch):
    """At most MAX_PARALLEL responses read at once, MAX_WAITING more wait, the rest get 503 at once."""
    path = build(tmp_path / "basemap.pmtiles")
    monkeypatch.setattr(basemap, "MAX_WAITING", 3, raising=False)

    async def run():
        release, reading, peak, statuses = asyncio.Event(), [0], [0], []

        async def request():
            async def send(message):
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
                    if message["status"] == 206:
                        reading[0] += 1
                        peak[0] = max(peak[0], reading[0])
                        await release.wait()  # a slow client: the response holds its turn
                elif not message.get("more_body"):
                    reading[0] -= 1

            await basemap.respond(_request("bytes=0-99"), send, path)

        tasks = [asyncio.create_task(request()) for _ in range(12)]
        await asyncio.sleep(0.3)
        refused = statuses.count(503)
        release.set()
        await asyncio.gather(*tasks)
        return peak[0], refused, statuses

    peak, refused, statuses = asyncio.run(run())
    assert peak == basemap.MAX_PARALLEL and refused == 12 - basemap.MAX_PARALLEL - 3
    assert statuses.count(206) == basemap.MAX_PARALLEL + 3


def test_the_offline_streets_are_made_after_the_server_listens_and_once(monkeypatch):
    """Issue 23: the streets of the interactive map (0.35 s of CPU) were made in WGS84 before the server
    listened, on every start, the browser waiting. Now the app is wrapped at once, and the streets are made
    once per process after it listens (the warm-up thread's ask, or a browser's), and served gzipped."""
    import gzip
    import json

    from dashboard import server
    from geodata import basemap as geo_basemap
    from geodata import config
    from geodata.bundled import ST_ALBANS

    streets = config.load(ST_ALBANS / "csp.toml").map_streets
    made = []
    real = geo_basemap.wgs84_json
    monkeypatch.setattr(geo_basemap, "wgs84_json", lambda path: made.append(path) or real(path))
    server._streets_json.cache_clear()

    async def app(scope, receive, send):  # Streamlit's app: never reached for the streets
        raise AssertionError(scope["path"])

    guarded = server.guard(app, None, streets_file=streets)
    assert made == []  # nothing made while the server starts

    def ask():
        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": basemap.STREETS_URL, "method": "GET", "headers": [(b"host", b"localhost")]}
        asyncio.run(guarded(scope, None, send))
        return sent

    first, second = ask(), ask()
    assert first[0]["status"] == 200 and first[1]["body"] == second[1]["body"]
    doc = json.loads(gzip.decompress(first[1]["body"]))
    assert doc["roads"] and len(made) == 1
    server._streets_json.cache_clear()
