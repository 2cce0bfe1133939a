"""The :class:`Store` and opening a store file: an existing one is checked (length, schema
version, boundaries) and migrated; a new one is created empty from its config."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import duckdb
import numpy as np

from geodata import boundaries
from geodata.config import BoundarySpec, Config, PopulationSpec
from geodata.store import schema
from geodata.store.actions import Actions
from geodata.store.connection import StoreError, check_length, remove_stale_staging, remove_store_file
from geodata.store.queries import Queries
from geodata.store.writes import Writes


class Store(Writes, Queries, Actions):
    """A DuckDB store for one area: its reads (:class:`~geodata.store.queries.Queries`), loads
    (:class:`~geodata.store.writes.Writes`) and the partnership's actions
    (:class:`~geodata.store.actions.Actions`). Open with :meth:`open`, or make an empty one with
    :meth:`create` (:func:`geodata.pipeline.build.open_store` does either, and loads a new store's
    bundled data). ``exclusive``: see :class:`~geodata.store.base.StoreBase` (default false)."""

    @classmethod
    def open(cls, config: Config, exclusive: bool = False) -> Store:
        """The config's existing store, checked and migrated to
        :data:`~geodata.store.schema.SCHEMA_VERSION`; the staging folders of killed ingests are
        removed first. :class:`StoreError` when there is no store file, or it cannot be used."""
        store = cls(config.store_path, config, exclusive)
        if not store.path.exists():
            raise StoreError(f"{store.path}: no store yet")
        remove_stale_staging(store.path)
        _owner_only(store.path)
        store._check()
        return store

    @classmethod
    def create(cls, config: Config, exclusive: bool = False) -> Store:
        """A new, empty store for the config: its wards, LSOAs and population, readable by its
        owner only (0600: it is to hold council records). A failed creation leaves no file; an
        existing file is refused, never replaced."""
        store = cls(config.store_path, config, exclusive)
        if store.path.exists():
            raise StoreError(f"{store.path}: a store is there already; open it, or delete it to build a new one")
        wards, lsoas = boundaries.read(config.wards), boundaries.read(config.lsoas)
        population = (
            list(_read_population(config.population).itertuples(index=False)) if config.population is not None else []
        )
        meta = {
            "area_name": config.area_name,
            "wards_fingerprint": _fingerprint(config.wards),
            "lsoas_fingerprint": _fingerprint(config.lsoas),
            "wards_label": config.wards.label,
        }
        store.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with store.connect() as con:
                con.execute("BEGIN")
                schema.create(con, wards, lsoas, population, meta)
                con.execute("COMMIT")
            os.chmod(store.path, 0o600)
        except BaseException:
            remove_store_file(store.path)
            raise
        return store

    def _check(self) -> None:
        with contextlib.ExitStack() as stack:  # one connection for every check (each open costs ~15 ms)
            try:
                con = stack.enter_context(self.connect())
                check_length(con, self.path)
                meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: not a CSP Hotspots store ({str(exc).splitlines()[0]})") from None
            version = schema.version(self.path, meta)  # a newer store is refused before anything else
            for key, spec in (("wards_fingerprint", self.config.wards), ("lsoas_fingerprint", self.config.lsoas)):
                if meta.get(key) != _fingerprint(spec):
                    raise StoreError(
                        f"{self.path}: built from other boundaries than {spec.file}; "
                        "delete the store file (it is rebuilt from the config) or set another "
                        "[store] path"
                    )
            schema.migrate(con, version)


def _owner_only(path: Path) -> None:
    """Make the store, its WAL and its disclosure key readable by their owner only (0600): a store an
    older version made world-readable (0644) is tightened when it is opened. A file this process does
    not own is left as it is (``chmod`` would fail; the owner's server tightens it)."""
    for f in (path, Path(f"{path}.wal"), Path(f"{path}.disclosure-key")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if f.stat().st_mode & 0o077:
                os.chmod(f, 0o600)


def _fingerprint(spec: BoundarySpec) -> str:
    digest = hashlib.sha256(Path(spec.file).read_bytes())
    digest.update(f"{spec.code_field}|{spec.name_field}|{spec.layer}".encode())
    return digest.hexdigest()


def _read_population(spec: PopulationSpec):
    import pandas as pd

    try:
        frame = pd.read_csv(spec.file, dtype={spec.lsoa_field: "str"})
    except (OSError, ValueError) as exc:  # unreadable, not CSV, not UTF-8
        raise StoreError(f"{spec.file}: cannot read population file ({exc})") from None
    for f in (spec.lsoa_field, spec.population_field):
        if f not in frame:
            raise StoreError(f"{spec.file}: column {f!r} not found")
    values = pd.to_numeric(frame[spec.population_field], errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise StoreError(f"{spec.file}, line {line}: {spec.population_field} is not a count")
    return pd.DataFrame({"lsoa_code": frame[spec.lsoa_field], "population": values.astype("int64")})
