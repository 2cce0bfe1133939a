"""What every part of a :class:`geodata.store.Store` stands on: its file, config, connections,
sessions and the area's wards and LSOAs (read once)."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import shapely

from geodata import boundaries
from geodata.config import Config
from geodata.store import schema
from geodata.store.connection import EXCLUSIVE_ROW_GROUP, connect, generation

if TYPE_CHECKING:  # pandas is imported by the queries only: `csp-hotspots ingest` never needs it
    import pandas as pd


class StoreBase:
    """A store file of one area. ``exclusive``: this Store is the only user of the file in this
    process (the command line), so its connections attach the file with
    :data:`~geodata.store.connection.EXCLUSIVE_ROW_GROUP`-row groups. An attached file cannot be
    opened by a second connection of the same process, so a server, whose threads share the file,
    leaves it false (default)."""

    def __init__(self, path: Path, config: Config, exclusive: bool = False):
        self.path, self.config, self.exclusive = Path(path), config, exclusive
        self._areas: dict[str, boundaries.Areas] = {}
        self._population: dict[str, pd.DataFrame] = {}
        self._boundary: shapely.Geometry | None = None
        self._session = threading.local()

    def generation(self) -> int:
        """The store's load generation (:func:`geodata.store.connection.generation`): bumped by every
        committed load, from any process; the dashboard's caches are cleared when it changes."""
        return generation(self.path)

    def connect(self):
        """A connection to the store file (:func:`~geodata.store.connection.connect`), as a context
        manager that closes it when done; inside :meth:`session`, the session's connection (left open)."""
        shared = getattr(self._session, "con", None)
        if shared is not None:
            return contextlib.nullcontext(shared)
        return connect(self.path, EXCLUSIVE_ROW_GROUP if self.exclusive else None)

    @contextlib.contextmanager
    def session(self):
        """Run a block of queries on one connection (opening the file costs ~15 ms a time).

        Per thread: the Store is shared by the app's sessions, each on its own thread. Do not
        hold a session open between page runs: its connection holds the file.
        """
        if getattr(self._session, "con", None) is not None:
            yield
            return
        with self.connect() as con:
            self._session.con = con
            try:
                yield
            finally:
                self._session.con = None

    def _query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """``sql``'s result through Arrow (not ``.df()``, ~10x slower on 1M rows)."""
        with self.connect() as con:
            table = con.sql(sql, params=params or None).to_arrow_table()
        return table.to_pandas(date_as_object=False)

    def areas(self, level: str = "ward", con: duckdb.DuckDBPyConnection | None = None) -> boundaries.Areas:
        """The stored areas of ``level`` ('ward' or 'lsoa'), sorted by code (read once, both levels;
        through ``con`` when given, else a new connection)."""
        if level not in ("ward", "lsoa"):
            raise ValueError(f"level must be 'ward' or 'lsoa', got {level!r}")
        if not self._areas:
            if con is None:
                with self.connect() as own:
                    self._areas = schema.stored_areas(own)
            else:
                self._areas = schema.stored_areas(con)
        return self._areas[level]

    def boundary(self) -> shapely.Geometry:
        """The area's outline: the union of its wards (EPSG:27700), computed once per Store."""
        if self._boundary is None:
            self._boundary = shapely.union_all(self.areas("ward").geometries)
        return self._boundary
