"""data.police.uk API client: street-level crime by polygon, as the files' canonical records.

Endpoints (https://data.police.uk/docs/, no key): ``crime-last-updated``,
``crimes-street-dates`` (the months published), ``forces/<id>`` (the force's
name), and by custom polygon ``crimes-street/all-crime``, ``stops-street`` and
``outcomes-at-location`` (the outcomes recorded in a month, for crimes of any
earlier month).

Behaviour, by the published limits (data.police.uk/docs/api-call-limits):

* **rate**: never more than :data:`RATE` requests in any :data:`WINDOW` seconds
  (a sliding window; the API allows 15/s with bursts of 30, so this stays inside it); a 429
  is waited out (``Retry-After`` when given, else exponential backoff) and retried;
* **errors**: 5xx (other than the 503 below), dropped connections and timeouts
  are retried with exponential backoff and full jitter (base :data:`BACKOFF` s,
  :data:`TRIES` tries in all), then :class:`ApiError` names the URL and the last
  problem;
* **long polygons**: a GET URL over 4,094 characters is answered 400, so the
  polygon goes in a POST body when the URL would be longer;
* **over 10,000 crimes**: the API answers 503 for a polygon holding more; the
  polygon is split in two across its longer side and each half asked again
  (recursively); a crime on the split line comes back twice and is kept once
  (by its API ``id``);
* **disk cache**: every successful answer is kept as a file under
  ``cache_dir`` (key: the request); crime answers also carry the API's
  ``crime-last-updated`` date in their key, so a republished month is asked
  again while a repeated or resumed refresh asks nothing it already has. The
  ``crime-last-updated`` and ``crimes-street-dates`` answers are kept for
  :data:`META_TTL` seconds.

Mapping: each crime becomes a row of the street-level CSV layout
(:data:`loaders.police.HEADER`): ``persistent_id`` -> Crime ID, ``month``,
the force's name -> Reported by and Falls within, ``location.longitude`` /
``latitude`` (the API's strings, as in the files), ``location.street.name`` ->
Location, the category slug -> Crime type (:data:`CATEGORIES`),
``outcome_status.category`` -> Last outcome category, ``context``; and the rows
go through :func:`loaders.police.parse`, the files' own path. The API gives no
LSOA, so ``source_lsoa_code`` and ``source_lsoa_name`` are empty; the store
assigns LSOAs from the coordinates either way. A polygon query returns every
force's crimes inside it; they are all filed under the force asked for.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import shapely

from loaders import plausible, schema
from loaders.coords import in_great_britain, wgs84_to_bng
from loaders.police import HEADER, parse
from loaders.report import LoadError, LoadReport, Rejection, reject

#: The live service.
BASE_URL = "https://data.police.uk/api"
#: Requests allowed per :data:`WINDOW` seconds: 15 per 1.1 s, a 10% margin so that network jitter
#: never bunches them into more than 15 in a second at the server.
RATE, WINDOW = 15, 1.1
#: Tries per request (the first and four retries), and the backoff base in seconds.
TRIES, BACKOFF = 5, 0.5
#: Longest GET URL the API accepts; longer polygons are POSTed.
MAX_GET = 4094
#: Seconds the last-updated date and the list of months are reused from the cache.
META_TTL = 3600
#: API category slugs -> the files' crime types.
CATEGORIES = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "other-crime": "Other crime",
}


class ApiError(LoadError):
    """The API could not be used (after retries); ``str()`` is one line naming the URL."""

    def __init__(self, url: str, reason: str):
        super().__init__(url, reason)


class _TooMany(Exception):
    """A 503 for a polygon: more than 10,000 crimes in it."""


class RateLimiter:
    """At most ``rate`` calls of :meth:`wait` in any ``window`` seconds (thread safe)."""

    def __init__(
        self,
        rate: int = RATE,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate < 1 or not window > 0:
            raise ValueError(f"rate must be at least 1 request per window > 0 s, got {rate!r} per {window!r}")
        self.rate, self.window, self.clock, self.sleep = rate, window, clock, sleep
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            while True:
                now = self.clock()
                while self._times and now - self._times[0] >= self.window:
                    self._times.popleft()
                if len(self._times) < self.rate:
                    self._times.append(now)
                    return
                self.sleep(self.window - (now - self._times[0]) + 1e-3)


class Client:
    """A data.police.uk client with rate limiting, retries, polygon splitting and a disk cache.

    ``base_url``: the API (default :data:`BASE_URL`; tests give a local server).
    ``cache_dir``: where answers are kept (None: no cache). ``requests`` counts HTTP
    requests actually sent (cache hits are not requests).
    """

    def __init__(
        self,
        base_url: str = BASE_URL,
        cache_dir: str | Path | None = None,
        rate: int = RATE,
        timeout: float = 30.0,
        tries: int = TRIES,
        backoff: float = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if tries < 1:
            raise ValueError(f"tries must be at least 1, got {tries!r}")
        self.base_url = base_url.rstrip("/")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.limiter = RateLimiter(rate, sleep=sleep)
        self.timeout, self.tries, self.backoff, self.sleep = timeout, tries, backoff, sleep
        self.requests = 0

    # ----------------------------------------------------------------------------- transport
    def _cache_file(self, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def _get_json(self, path: str, params: dict[str, str], cache_key: str | None = None, ttl: float | None = None):
        key = cache_key or f"{path}?{urllib.parse.urlencode(sorted(params.items()))}"
        cached = self._cache_file(key)
        if cached is not None and cached.exists() and (ttl is None or time.time() - cached.stat().st_mtime < ttl):
            return json.loads(cached.read_text(encoding="utf-8"))
        body = self._send(path, params)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_bytes(body)
            tmp.replace(cached)  # atomic: a killed refresh leaves no half-written answer
        return json.loads(body)

    def _send(self, path: str, params: dict[str, str]) -> bytes:
        url = f"{self.base_url}/{path}"
        query = urllib.parse.urlencode(params)
        get_url = f"{url}?{query}" if query else url
        if len(get_url) > MAX_GET:
            request = urllib.request.Request(
                url, data=query.encode(), method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        else:
            request = urllib.request.Request(get_url)
        problem = ""
        for attempt in range(self.tries):
            if attempt:
                self.sleep(random.uniform(0, self.backoff * 2**attempt))  # full jitter
            self.limiter.wait()
            self.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                if exc.code == 503 and path in ("crimes-street/all-crime", "stops-street", "outcomes-at-location"):
                    raise _TooMany() from None
                if exc.code == 429:
                    retry_after = exc.headers.get("Retry-After")
                    if retry_after and retry_after.isdigit():
                        self.sleep(float(retry_after))
                    continue
                if exc.code < 500:
                    raise ApiError(get_url[:200], f"the API answered {problem}") from None
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError) as exc:
                problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        raise ApiError(
            get_url[:200],
            f"no answer after {self.tries} tries (last: {problem}); data.police.uk may be down, try again later",
        )

    # ---------------------------------------------------------------------------- endpoints
    def last_updated(self) -> str:
        """The date the API's crime data was last updated ('YYYY-MM-DD')."""
        return str(self._get_json("crime-last-updated", {}, ttl=META_TTL)["date"])

    def street_dates(self) -> list[str]:
        """The months ('YYYY-MM') with street-level crime published, oldest first."""
        return sorted(str(d["date"]) for d in self._get_json("crimes-street-dates", {}, ttl=META_TTL))

    def force_name(self, force: str) -> str:
        """The force's name as the files give it (e.g. 'Hertfordshire Constabulary')."""
        return str(self._get_json(f"forces/{urllib.parse.quote(force)}", {})["name"])

    def crimes(self, polygons: list, month: str, version: str = "") -> list[dict]:
        """Every crime in ``polygons`` (shapely Polygons in WGS84, x = longitude) in ``month``,
        splitting a polygon while the API says it holds too many; each crime once (by ``id``),
        also when it lies on the line between two polygons. Sorted by ``id``."""
        return self._in_polygons("crimes-street/all-crime", polygons, month, version, lambda c: c["id"])

    def stops(self, polygons: list, month: str, version: str = "") -> list[dict]:
        """Every stop and search in ``polygons`` in ``month`` (``stops-street``), split as for
        :meth:`crimes`; stops carry no id, so a stop found twice (on a split line) is the same record."""
        return self._in_polygons("stops-street", polygons, month, version, lambda s: json.dumps(s, sort_keys=True))

    def outcomes(self, polygons: list, month: str, version: str = "") -> list[dict]:
        """Every outcome recorded in ``month`` for crimes in ``polygons`` (``outcomes-at-location``;
        each names its crime, with the crime's ``persistent_id``), split as for :meth:`crimes`; an
        outcome found twice (same crime, category and date) is kept once."""
        return self._in_polygons(
            "outcomes-at-location",
            polygons,
            month,
            version,
            lambda o: f"{o['crime']['persistent_id']}|{o['category']['code']}|{o['date']}",
        )

    def _in_polygons(self, endpoint: str, polygons: list, month: str, version: str, identity) -> list[dict]:
        found: dict = {}
        pending = list(polygons)
        while pending:
            part = pending.pop()
            ring = shapely.get_coordinates(part.exterior)[:-1]
            poly = ":".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring)
            try:
                answer = self._get_json(
                    endpoint, {"poly": poly, "date": month}, cache_key=f"{endpoint}|{version}|{month}|{poly}"
                )
            except _TooMany:
                pending.extend(split(part))
                continue
            for record in answer:
                found.setdefault(identity(record), record)
        return [found[k] for k in sorted(found, key=str)]

    def stop_months(self, force: str) -> list[str]:
        """The months ('YYYY-MM') for which ``force`` has published stop and search data."""
        return sorted(
            str(d["date"])
            for d in self._get_json("crimes-street-dates", {}, ttl=META_TTL)
            if force in d.get("stop-and-search", [])
        )


def split(polygon) -> list:
    """Two halves of ``polygon`` across the middle of its longer bounding-box side."""
    x0, y0, x1, y1 = polygon.bounds
    if x1 - x0 >= y1 - y0:
        mid = (x0 + x1) / 2
        boxes = [shapely.box(x0 - 1, y0 - 1, mid, y1 + 1), shapely.box(mid, y0 - 1, x1 + 1, y1 + 1)]
    else:
        mid = (y0 + y1) / 2
        boxes = [shapely.box(x0 - 1, y0 - 1, x1 + 1, mid), shapely.box(x0 - 1, mid, x1 + 1, y1 + 1)]
    halves = []
    for box in boxes:
        piece = shapely.intersection(polygon, box)
        halves += [g for g in shapely.get_parts(piece) if g.geom_type == "Polygon" and not g.is_empty]
    return halves


def to_csv(crimes: list[dict], force_name: str) -> bytes:
    """The crimes as a street-level CSV of :data:`loaders.police.HEADER` (unknown slugs kept as
    they are, so the parser reports them as unknown crime types)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for c in crimes:
        loc = c.get("location") or {}
        outcome = c.get("outcome_status") or {}
        writer.writerow(
            [
                c.get("persistent_id") or "",
                c.get("month", ""),
                force_name,
                force_name,
                loc.get("longitude") or "",
                loc.get("latitude") or "",
                (loc.get("street") or {}).get("name") or "",
                "",
                "",
                CATEGORIES.get(c.get("category", ""), c.get("category", "")),
                outcome.get("category") or "",
                c.get("context") or "",
            ]
        )
    return buf.getvalue().encode("utf-8")


def fetch_month(client: Client, polygons: list, month: str, force: str, force_name: str, version: str = "") -> tuple:
    """One month of ``force`` inside ``polygons`` (WGS84), parsed by the files' path:
    (canonical Arrow table, load report named after the API request)."""
    name = f"{client.base_url}/crimes-street/all-crime?date={month} ({force})"
    return parse(name, to_csv(client.crimes(polygons, month, version), force_name))


#: Stop and search records are their own source, never counted as crimes.
STOPS_SOURCE = "police.uk-stops"


def stops_table(stops: list[dict], force: str, force_name: str, name: str):
    """Stop and search records (``stops-street`` JSON) as canonical rows of :data:`STOPS_SOURCE`:
    category "Stop and search", subcategory the object of search, outcome, the date and month of
    the stop, the street, and in ``context`` the search type, legislation, gender and age range as
    police.uk publishes them. A record with an unparseable ``datetime``, or one outside the plausible
    months (:mod:`loaders.plausible`), is rejected; one without a location is kept with none.
    Returns (table, load report)."""
    report = LoadReport(STOPS_SOURCE, files=[name], rows_read=len(stops))
    rows = []
    for i, s in enumerate(stops, 1):
        stamp = str(s.get("datetime") or "")
        try:
            day = date.fromisoformat(stamp[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}T", stamp) else None
        except ValueError:
            day = None
        if day is None:
            reject(report.rejected, Rejection(name, i, "datetime", f"unparseable datetime {stamp[:60]!r}"))
            continue
        if reason := plausible.month_problem(STOPS_SOURCE, f"{day.year:04d}-{day.month:02d}"):
            reject(report.rejected, Rejection(name, i, "datetime", reason))
            continue
        loc = s.get("location") or {}
        try:
            row_lon, row_lat = float(loc["longitude"]), float(loc["latitude"])
        except (KeyError, TypeError, ValueError):
            row_lon = row_lat = float("nan")
        rows.append((s, day, row_lon, row_lat, loc, i))
    lon = np.array([r[2] for r in rows], dtype="float64")
    lat = np.array([r[3] for r in rows], dtype="float64")
    outside = ~np.isnan(lon) & ~in_great_britain(lon, lat)
    for r, bad in zip(rows, outside):
        if bad:
            reject(report.rejected, Rejection(name, r[5], "location", "coordinates outside Great Britain"))
    rows = [r for r, bad in zip(rows, outside) if not bad]
    lon, lat = lon[~outside], lat[~outside]
    x, y = wgs84_to_bng(lon, lat)
    seen: dict[str, int] = {}
    ids = []
    for s, *_ in rows:
        digest = hashlib.blake2b(json.dumps(s, sort_keys=True).encode(), digest_size=8).hexdigest()
        ids.append(f"stop-{digest}-{seen.get(digest, 0)}")
        seen[digest] = seen.get(digest, 0) + 1
    days = [r[1] for r in rows]
    street = [((r[4].get("street") or {}).get("name") or "").removeprefix("On or near ") or None for r in rows]
    table = schema.conform(
        {
            "source": [STOPS_SOURCE] * len(rows),
            "dataset": [force] * len(rows),
            "record_id": ids,
            "month": [d.replace(day=1) for d in days],
            "date": days,
            "category": ["Stop and search"] * len(rows),
            "subcategory": [r[0].get("object_of_search") or "Not stated" for r in rows],
            "outcome": [r[0].get("outcome") or None for r in rows],
            "location_text": street,
            "x": x,
            "y": y,
            "longitude": lon,
            "latitude": lat,
            "reported_by": [force_name] * len(rows),
            "falls_within": [force_name] * len(rows),
            "context": [
                "; ".join(str(r[0].get(k)) for k in ("type", "legislation", "gender", "age_range") if r[0].get(k))
                or None
                for r in rows
            ],
        },
        len(rows),
    )
    report.rows_loaded = table.num_rows
    report.no_location = int(np.isnan(lon).sum())
    return table, report
