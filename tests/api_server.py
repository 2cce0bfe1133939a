"""A local stand-in for data.police.uk, for the tests: a real HTTP server on 127.0.0.1.

Its answers are built from street-level CSV rows (the bundled St Albans zip), in
the API's documented JSON shapes, and it behaves as the live API does at its
limits: 400 for a GET URL over 4,094 characters (stop and search records, which police.uk
publishes per force, are made up here from every 25th crime's place and month: synthetic), 503 for a
polygon holding more than ``max_crimes`` crimes, 429 when a client sends more than 15 requests in a
second (with ``Retry-After: 1``). Faults on demand: ``drop`` requests closed with
no answer, ``fail`` requests answered 500, and a ``delay`` before every answer.
It records every request it sees (time, method, path).
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import zipfile
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import shapely

from loaders.policeapi import CATEGORIES

SLUGS = {name: slug for slug, name in CATEGORIES.items()}


class FakePoliceApi:
    """``with FakePoliceApi(zip_path) as api: Client(api.url)``."""

    def __init__(
        self,
        zip_path: Path,
        max_crimes: int = 10_000,
        months: list[str] | None = None,
        last_updated: str = "2022-02-01",
        rate: int = 15,
    ):
        self.rows = []
        with zipfile.ZipFile(zip_path) as z:
            for name in sorted(z.namelist()):
                self.rows += list(csv.DictReader(io.StringIO(z.read(name).decode("utf-8"))))
        located = [r for r in self.rows if r["Longitude"] and r["Latitude"]]
        self.located = located
        self.lon = np.array([float(r["Longitude"]) for r in located])
        self.lat = np.array([float(r["Latitude"]) for r in located])
        self.month = np.array([r["Month"] for r in located])
        self.months = months or sorted({r["Month"] for r in self.rows})
        self.max_crimes, self.last_updated, self.rate = max_crimes, last_updated, rate
        self.drop = self.fail = 0
        self.delay = 0.0
        self.log: list[tuple[float, str, str]] = []
        self.limited = 0  # requests answered 429 (the client sends them again after Retry-After)
        self.too_many = 0
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                api._handle(self, "GET", self.path, None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                api._handle(self, "POST", self.path, self.rfile.read(length).decode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ answers
    def max_per_second(self) -> int:
        """The most requests seen in any one-second window."""
        times = sorted(t for t, _, _ in self.log)
        best, j = 0, 0
        for i, t in enumerate(times):
            while t - times[j] >= 1.0:
                j += 1
            best = max(best, i - j + 1)
        return best

    def crime_json(self, i: int) -> dict:
        r = self.located[i]
        return {
            "category": SLUGS[r["Crime type"]],
            "location_type": "Force",
            "location": {
                "latitude": r["Latitude"],
                "longitude": r["Longitude"],
                "street": {"id": abs(hash(r["Location"])) % 10**7, "name": r["Location"]},
            },
            "context": r["Context"],
            "outcome_status": (
                {"category": r["Last outcome category"], "date": r["Month"]} if r["Last outcome category"] else None
            ),
            "persistent_id": r["Crime ID"],
            "id": 100_000 + i,
            "location_subtype": "",
            "month": r["Month"],
        }

    def stop_json(self, i: int) -> dict:
        """A synthetic stop and search record at crime ``i``'s place, in its month."""
        r = self.located[i]
        return {
            "age_range": "18-24",
            "outcome": "A no further action disposal",
            "involved_person": True,
            "self_defined_ethnicity": None,
            "gender": "Male" if i % 2 else "Female",
            "legislation": "Misuse of Drugs Act 1971 (section 23)",
            "outcome_linked_to_object_of_search": None,
            "datetime": f"{r['Month']}-{1 + i % 28:02d}T1{i % 10}:00:00+00:00",
            "removal_of_more_than_outer_clothing": False,
            "outcome_object": {"id": "", "name": ""},
            "location": {
                "latitude": r["Latitude"],
                "longitude": r["Longitude"],
                "street": {"id": 1, "name": r["Location"]},
            },
            "operation": None,
            "officer_defined_ethnicity": None,
            "type": "Person search",
            "operation_name": None,
            "object_of_search": "Controlled drugs",
        }

    def _reply(self, handler, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    def _handle(self, handler, method: str, raw_path: str, body: str | None) -> None:
        now = time.monotonic()
        with self._lock:
            self.log.append((now, method, raw_path))
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            self._recent.append(now)
            over_rate = len(self._recent) > self.rate
            self.limited += over_rate
            drop = self.drop > 0
            self.drop -= drop
            fail = self.fail > 0 and not drop
            self.fail -= fail
        if self.delay:
            time.sleep(self.delay)
        if drop:
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        if over_rate:
            return self._reply(handler, 429, {"error": "rate limit"}, {"Retry-After": "1"})
        if fail:
            return self._reply(handler, 500, {"error": "internal"})
        if method == "GET" and len(raw_path) > 4094 - len("http://data.police.uk"):
            return self._reply(handler, 400, b"")
        url = urlparse(raw_path)
        query = parse_qs(body if method == "POST" else url.query)
        path = url.path.removeprefix("/api/")
        if path == "crime-last-updated":
            return self._reply(handler, 200, {"date": self.last_updated})
        if path == "crimes-street-dates":
            return self._reply(
                handler, 200, [{"date": m, "stop-and-search": ["hertfordshire"]} for m in reversed(self.months)]
            )
        if path == "forces/hertfordshire":
            return self._reply(handler, 200, {"id": "hertfordshire", "name": "Hertfordshire Constabulary"})
        if path == "stops-street":
            month = query.get("date", [""])[0]
            pts = [tuple(map(float, p.split(","))) for p in query.get("poly", [""])[0].split(":")]
            poly = shapely.Polygon([(lon, lat) for lat, lon in pts])
            inside = np.flatnonzero((self.month == month) & shapely.intersects_xy(poly, self.lon, self.lat))
            return self._reply(handler, 200, [self.stop_json(int(i)) for i in inside if i % 25 == 0])
        if path == "outcomes-at-location":  # a later outcome for every 7th crime of the month asked
            month = query.get("date", [""])[0]
            pts = [tuple(map(float, p.split(","))) for p in query.get("poly", [""])[0].split(":")]
            poly = shapely.Polygon([(lon, lat) for lat, lon in pts])
            inside = np.flatnonzero((self.month == month) & shapely.intersects_xy(poly, self.lon, self.lat))
            return self._reply(
                handler,
                200,
                [
                    {
                        "category": {"code": "court-result", "name": "Offender given a fine"},
                        "date": month,
                        "person_id": None,
                        "crime": self.crime_json(int(i)),
                    }
                    for i in inside
                    if i % 7 == 0 and self.located[int(i)]["Crime ID"]
                ],
            )
        if path == "crimes-street/all-crime":
            month = query.get("date", [""])[0]
            pts = [tuple(map(float, p.split(","))) for p in query.get("poly", [""])[0].split(":")]
            poly = shapely.Polygon([(lon, lat) for lat, lon in pts])
            inside = np.flatnonzero((self.month == month) & shapely.intersects_xy(poly, self.lon, self.lat))
            if month not in self.months:
                return self._reply(handler, 404, b"")
            if inside.size > self.max_crimes:
                self.too_many += 1
                return self._reply(handler, 503, b"")
            return self._reply(handler, 200, [self.crime_json(int(i)) for i in inside])
        return self._reply(handler, 404, b"")
