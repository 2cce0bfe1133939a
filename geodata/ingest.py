"""Ingest sources into the store: read with a loader, assign geography, write."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from geodata.store import Store
from loaders import police
from loaders.report import LoadReport


def ingest_police(store: Store, paths: Iterable[str | Path],
                  progress: Callable[[LoadReport], None] | None = None) -> LoadReport:
    """Load data.police.uk street-level files (CSV, folders of months, zips) into ``store``.

    Files are read and written one at a time (memory stays at one file's worth);
    the whole call is one transaction. Returns the load report.
    """
    paths = [str(p) for p in paths]
    batches = (police.parse(name, data) for name, data in police.iter_files(paths))
    return store.ingest(batches, police.SOURCE, paths, progress=progress)
