"""Open a config's store, building it on the first run: create it empty and load the config's
bundled sources (police.uk street and outcomes files, FixMyStreet counts, DEFRA tables).

Here, not in :mod:`geodata.store`: building loads through :mod:`geodata.pipeline.ingest`, which writes
through the store, so the store never imports what loads it.
"""

from __future__ import annotations

from collections.abc import Callable

from geodata.config import Config
from geodata.pipeline.ingest import ingest_defra, ingest_fixmystreet, ingest_outcomes, ingest_police
from geodata.store import Store
from geodata.store.connection import remove_store_file
from loaders.report import LoadReport


def open_store(
    config: Config, build: bool = True, progress: Callable[[LoadReport], None] | None = None, exclusive: bool = False
) -> Store:
    """Open the config's store (:meth:`geodata.store.Store.open`); when it does not exist yet and
    ``build`` is true (default), create it (0600, before any record is loaded) and load the config's
    bundled sources: the first run on the bundled data. A build that fails leaves no file.
    ``progress`` is called after each bundled police.uk file; ``exclusive``: see
    :class:`geodata.store.Store` (default false)."""
    if config.store_path.exists() or not build:
        return Store.open(config, exclusive)
    store = Store.create(config, exclusive)
    try:
        if config.bundled_police:
            ingest_police(store, config.bundled_police, progress=progress)
        if config.bundled_outcomes:
            ingest_outcomes(store, config.bundled_outcomes)
        for path in config.bundled_fixmystreet:
            ingest_fixmystreet(store, path)
        for path in config.bundled_defra:
            ingest_defra(store, path)
    except BaseException:
        remove_store_file(store.path)
        raise
    return store
