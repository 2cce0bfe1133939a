"""Refresh the store's police.uk months from the data.police.uk API, through the files' ingest path.

Which months: those the API lists (``crimes-street-dates``) within the plausible
months (:mod:`loaders.plausible`; others are ignored) that the store has not loaded for the force (from
``start`` on, if given); with ``republished``,
also the loaded months whose load is older than the API's ``crime-last-updated``
date. The polygon asked for is the area's outline (the union of its wards)
buffered by :data:`BUFFER_M` and simplified by :data:`SIMPLIFY_M`: it covers
the whole area (a simplified line moves at most its tolerance), and the few
crimes it holds outside the area are stored with no ward, as a file load
stores them. Months between the first and last the API lists that it does not
list are reported as gaps (never zeros). Everything fetched goes to
:meth:`geodata.store.Store.ingest` in one transaction: a refresh killed half-way
leaves the store as it was, and the next run takes what it already fetched from
the client's disk cache, so it completes with no duplicated and no missing crime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from pyproj import Transformer

from geodata.store import Store
from loaders import plausible
from loaders.months import months as month_range
from loaders.police import SOURCE
from loaders.policeapi import STOPS_SOURCE, Client, fetch_month, stops_table
from loaders.report import LoadReport

BUFFER_M, SIMPLIFY_M = 50.0, 20.0
_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


@dataclass
class RefreshReport:
    """What a refresh did: the months fetched, the months the API lacks, requests sent, the load."""

    force: str
    fetched: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    requests: int = 0
    load: LoadReport | None = None
    stops: LoadReport | None = None

    def summary(self) -> str:
        if not self.fetched:
            text = f"{self.force}: the store is up to date with data.police.uk"
        else:
            text = f"{self.force}: fetched {len(self.fetched)} month(s) ({self.fetched[0]} to {self.fetched[-1]})"
            if self.load is not None:  # set by refresh() whenever it fetched
                text += f", {self.load.rows_loaded:,} crimes loaded, {len(self.load.rejected):,} rejected"
        if self.stops is not None:
            text += f"; {self.stops.rows_loaded:,} stop and search records loaded ({STOPS_SOURCE})"
        if self.gaps:
            text += f"; data.police.uk has no data for {', '.join(self.gaps)} (gaps, not zeros)"
        return text + f"; {self.requests} request(s) sent"


def area_polygons(store: Store) -> list:
    """The area's outline, buffered and simplified (EPSG:27700), as WGS84 polygons (x = longitude)."""
    outline = shapely.simplify(shapely.buffer(store.boundary(), BUFFER_M), SIMPLIFY_M)
    return [shapely.transform(p, lambda xy: _wgs84(xy)) for p in shapely.get_parts(outline)]


def _wgs84(xy: np.ndarray) -> np.ndarray:
    lon, lat = _TO_WGS84.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def months_to_fetch(
    store: Store, client: Client, force: str, start: str | None = None, republished: bool = False
) -> tuple[list[str], list[str], str]:
    """(months to fetch, months the API lacks between its first and last, the API's last-updated date)."""
    available = [m for m in client.street_dates() if not plausible.month_problem(SOURCE, m)]
    updated = client.last_updated()
    if start:
        available = [m for m in available if m >= start]
    gaps = [m for m in month_range(available[0], available[-1]) if m not in set(available)] if available else []
    parts = store.partitions()
    parts = parts[(parts["source"] == SOURCE) & (parts["dataset"] == force)]
    loaded = dict(zip(parts["month"].dt.strftime("%Y-%m"), parts["loaded_at"]))
    stale_before = datetime.fromisoformat(updated[:10])
    wanted = [m for m in available if m not in loaded or (republished and loaded[m] < stale_before)]
    return wanted, gaps, updated


def update_outcomes(store: Store, client: Client, force: str, months: list[str]) -> tuple[int, int]:
    """Ask ``outcomes-at-location`` for each of ``months`` over the area and give each stored
    police.uk crime of ``force`` the latest outcome found for it (by date; the outcome a crime's
    own month brought is replaced only by a later one the API now lists). One transaction.
    Returns (outcomes read, crimes whose outcome changed)."""
    updated = client.last_updated()
    polygons = area_polygons(store)
    latest: dict[str, tuple[str, str]] = {}
    for month in months:
        for o in client.outcomes(polygons, month, updated):
            pid = o["crime"].get("persistent_id")
            if pid and (pid not in latest or o["date"] >= latest[pid][0]):
                latest[pid] = (o["date"], o["category"]["name"])
    changed = store.update_outcomes(
        SOURCE,
        force,
        {pid: name for pid, (_, name) in latest.items()},
        f"{client.base_url}/outcomes-at-location ({force}): {', '.join(months)}",
    )
    return len(latest), changed


def refresh_police(
    store: Store,
    client: Client,
    force: str,
    start: str | None = None,
    republished: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    stops: bool = False,
    replace_smaller: bool = False,
) -> RefreshReport:
    """Fetch the months :func:`months_to_fetch` names for ``force`` (a data.police.uk force id,
    e.g. 'hertfordshire') and ingest them. ``progress(month, done, total)`` after each month.
    With ``stops``, also the force's stop and search records for those months that it published
    (``stops-street``), as their own source (:data:`loaders.policeapi.STOPS_SOURCE`), in a second
    transaction. A month that would shrink under :data:`geodata.store.SHRINK_LIMIT` of its stored
    rows is refused unless ``replace_smaller``."""
    before = client.requests
    wanted, gaps, updated = months_to_fetch(store, client, force, start, republished)
    report = RefreshReport(force, wanted, gaps)
    if wanted:
        name = client.force_name(force)
        polygons = area_polygons(store)

        def batches():
            for i, month in enumerate(wanted):
                yield fetch_month(client, polygons, month, force, name, version=updated)
                if progress:
                    progress(month, i + 1, len(wanted))

        report.load = store.ingest(
            batches(), SOURCE, [f"{client.base_url} ({force}): {', '.join(wanted)}"], replace_smaller=replace_smaller
        )
        if stops:
            published = set(client.stop_months(force))
            stop_months = [m for m in wanted if m in published]

            def stop_batches():
                for month in stop_months:
                    yield stops_table(
                        client.stops(polygons, month, updated),
                        force,
                        name,
                        f"{client.base_url}/stops-street?date={month} ({force})",
                    )

            report.stops = store.ingest(
                stop_batches(),
                STOPS_SOURCE,
                [f"{client.base_url} stops ({force}): {', '.join(stop_months)}"],
                replace_smaller=replace_smaller,
            )
    report.requests = client.requests - before
    return report
