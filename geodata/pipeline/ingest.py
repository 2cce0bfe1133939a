"""Ingest sources into the store: read with a loader, assign geography, write."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa

from geodata.assign import assign
from geodata.methods import disclosure
from geodata.store import Store
from loaders import council, defra, fixmystreet, outcomes, police
from loaders.months import listing
from loaders.report import LoadReport, Rejection, reject

T = TypeVar("T")

#: Parser threads, and files parsed ahead of the one being handed to the store.
WORKERS, AHEAD = 2, 4


def _in_parallel(tasks: Iterable[Callable[[], T]]) -> Iterator[T]:
    """Run ``tasks`` on :data:`WORKERS` threads, at most :data:`AHEAD` ahead; yield results in order.

    Arrow's CSV reader and compute kernels release the GIL, so two files parse
    at once on a 2-core machine (county: 0.29 s -> 0.25 s); memory stays at a
    few files' worth.
    """
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(task))
            if len(pending) > AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def ingest_police(
    store: Store,
    paths: Iterable[str | Path],
    progress: Callable[[LoadReport], None] | None = None,
    replace_smaller: bool = False,
) -> LoadReport:
    """Load data.police.uk street-level files (CSV, folders of months, zips) into ``store``.

    Files are parsed a few at a time and written in batches of about a million
    rows (memory stays bounded); the whole call is one transaction. A month that
    would shrink under :data:`geodata.store.SHRINK_LIMIT` of its stored rows is
    refused unless ``replace_smaller``. Returns the load report.
    """
    inputs = [str(p) for p in paths]
    skipped: list[tuple[str, str]] = []
    report = _ingest_street(store, police.list_files(inputs, skipped=skipped), inputs, progress, replace_smaller)
    report.skipped += skipped
    return report


def _ingest_street(store: Store, files, inputs: list[str], progress, replace_smaller: bool = False) -> LoadReport:
    tasks = (lambda name=name, read=read: police.parse(name, read()) for name, read in files)
    return store.ingest(_in_parallel(tasks), police.SOURCE, inputs, progress=progress, replace_smaller=replace_smaller)


def ingest_outcomes(store: Store, paths: Iterable[str | Path], replace_smaller: bool = False) -> LoadReport:
    """Load data.police.uk outcomes files (CSV, folders of months, zips; :mod:`loaders.outcomes`)
    into the store's ``outcomes`` table, one transaction; each force-month replaces the stored one
    (see ``replace_smaller`` at :func:`ingest_police`)."""
    inputs = [str(p) for p in paths]
    return _ingest_outcomes(store, police.list_files(inputs, police.OUTCOMES), inputs, replace_smaller)


def _ingest_outcomes(store: Store, files, inputs: list[str], replace_smaller: bool = False) -> LoadReport:
    tasks = (lambda name=name, read=read: outcomes.parse(name, read()) for name, read in files)
    return store.ingest_outcomes(_in_parallel(tasks), inputs, replace_smaller=replace_smaller)


def summary(report: LoadReport) -> str:
    """:meth:`loaders.report.LoadReport.summary` with its months written as runs
    (:func:`loaders.months.listing`: "6 months: 2025-01 to 2025-06")."""
    return report.summary(listing)


@dataclass
class DownloadReport:
    """What loading a download folder did: the street and outcomes load reports (None when the
    download holds no file of that kind) and every other file with the reason it was skipped."""

    street: LoadReport | None
    outcomes: LoadReport | None
    skipped: list[tuple[str, str]]

    def summary(self) -> str:
        parts = [summary(r) for r in (self.street, self.outcomes) if r is not None]
        parts += [f"skipped {name}: {reason}" for name, reason in self.skipped]
        return "\n".join(parts)


def ingest_download(
    store: Store,
    paths: Iterable[str | Path],
    progress: Callable[[LoadReport], None] | None = None,
    replace_smaller: bool = False,
) -> DownloadReport:
    """Load what a data.police.uk download holds (:func:`loaders.police.download_files`): its street
    files (as :func:`ingest_police`, one transaction; see ``replace_smaller`` there), then its
    outcomes files (as :func:`ingest_outcomes`, a second transaction, ``replace_smaller`` alike);
    every other file is listed as skipped with why."""
    inputs = [str(p) for p in paths]
    kinds, skipped = police.download_files(inputs)
    street = (
        _ingest_street(store, kinds[police.STREET], inputs, progress, replace_smaller) if kinds[police.STREET] else None
    )
    done = _ingest_outcomes(store, kinds[police.OUTCOMES], inputs, replace_smaller) if kinds[police.OUTCOMES] else None
    return DownloadReport(street, done, skipped)


def ingest_fixmystreet(store: Store, path: str | Path, replace_smaller: bool = False) -> LoadReport:
    """Load a FixMyStreet LSOA-month file (:mod:`loaders.fixmystreet`) into ``store``: every month
    it covers replaces what the store held (one transaction; see ``replace_smaller`` at
    :func:`ingest_police`). Returns the load report."""
    table, report, months = fixmystreet.read(path)
    return store.ingest_area_counts(table, report, months, [str(path)], replace_smaller=replace_smaller)


def ingest_defra(store: Store, path: str | Path, replace_smaller: bool = False) -> LoadReport:
    """Load a DEFRA fly-tipping LA table (incidents or actions, :mod:`loaders.defra`) into ``store``:
    the years it holds replace what the store held (one transaction; see ``replace_smaller`` at
    :func:`ingest_police`). Returns the load report."""
    table, report = defra.read(path)
    return store.ingest_district_stats(table, report, [str(path)], replace_smaller=replace_smaller)


def ingest_council(
    store: Store,
    path: str | Path,
    mapping: str | Path | council.Mapping,
    today: date | None = None,
    replace_smaller: bool = False,
) -> LoadReport:
    """Load a council export (fly-tipping records or an incident log) with its mapping file
    (:mod:`loaders.council`) into ``store``, one transaction; the months it holds replace what the
    store held for its (source, dataset).

    A located record outside every ward of the area is rejected, not kept: a council's own
    records outside its district are a wrong grid reference or a wrong file. Returns the report.
    """
    if not isinstance(mapping, council.Mapping):
        mapping = council.read_mapping(mapping)
    table, report, lines = council.read(path, mapping, today)
    x = table["x"].to_numpy(zero_copy_only=False)
    y = table["y"].to_numpy(zero_copy_only=False)
    ward = assign(store.areas("ward"), x, y)
    outside = np.flatnonzero((ward == None) & ~np.isnan(x))  # noqa: E711
    if outside.size:
        where = ", ".join(
            mapping.columns.get(k, (k,))[0] for k in ("grid_ref", "easting", "longitude") if k in mapping.columns
        )
        for i in outside:
            reject(
                report.rejected,
                Rejection(
                    str(path),
                    int(lines[i]),
                    where,
                    f"point ({x[i]:.0f}, {y[i]:.0f}) is outside {store.config.area_name}",
                ),
            )
        keep = np.ones(table.num_rows, dtype=bool)
        keep[outside] = False
        table = table.filter(pa.array(keep))
        report.rows_loaded = table.num_rows
    report.rejected.sort(key=lambda r: r.line)
    if not set(store.partitions()["source"]) & disclosure.SENSITIVE_SOURCES:
        disclosure.store_key(store.path)  # the store's first sensitive records: their key is made now, never later
    return store.ingest([(table, report)], report.source, [str(path)], replace_smaller=replace_smaller)
