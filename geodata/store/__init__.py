"""The store: one embedded DuckDB file per area config (no server), as a small package.

- :mod:`~geodata.store.schema`: the tables, the :data:`SCHEMA_VERSION` a store file records in
  ``meta``, and the migrations that bring an older file up to it on open (a newer file is refused);
- :mod:`~geodata.store.connection`: connections that wait for another process's lock
  (:data:`LOCK_WAIT_S`), the check that refuses a file cut short, and the private staging folders
  of an ingest (:func:`remove_stale_staging`);
- :mod:`~geodata.store.writes`: the one write primitive every source loads through: a load is one
  transaction whose partitions (source, dataset, month) replace the stored ones whole, refused
  when one shrinks under :data:`SHRINK_LIMIT`, with its history row and rejections;
- :mod:`~geodata.store.queries`: the read queries;
- :mod:`~geodata.store.actions`: the partnership's actions, an append-only history of every change;
- :mod:`~geodata.store.opening`: :class:`Store`, opened (checked, migrated) or created empty.

Building a store from a config's bundled data is not done here: :func:`geodata.pipeline.build.open_store`
creates the store and loads it through :mod:`geodata.pipeline.ingest`, which imports this package (never
the other way round: an import-linter contract checks it).
"""

from geodata.store.connection import LOCK_WAIT_S, StoreError, remove_stale_staging
from geodata.store.opening import Store
from geodata.store.schema import AREA_SOURCES, SCHEMA_VERSION
from geodata.store.writes import SHRINK_LIMIT

__all__ = [
    "AREA_SOURCES",
    "LOCK_WAIT_S",
    "SCHEMA_VERSION",
    "SHRINK_LIMIT",
    "Store",
    "StoreError",
    "remove_stale_staging",
]
