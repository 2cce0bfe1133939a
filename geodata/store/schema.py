"""The store's tables, its schema version and the migrations that bring an older store file up to it.

Tables: ``meta`` (key, value: the area's name, the boundary files' fingerprints, ``schema_version``),
``areas`` (wards and LSOAs of the config, WKB in EPSG:27700), ``population`` (residents per LSOA),
``lsoa_wards`` (each LSOA's best-fit ward, :func:`geodata.assign.best_fit`), ``incidents`` (the
canonical schema, :mod:`loaders.schema`, plus ``load_id``), ``area_counts`` (counts per LSOA and
month of the :data:`AREA_SOURCES`), ``district_stats`` (DEFRA, :mod:`loaders.defra`, in long form),
``outcomes`` (police.uk outcomes files, :data:`loaders.outcomes.COLUMNS`, plus ``load_id``),
``partitions`` (which source, dataset and month is loaded, and by which load), ``loads`` (load
history with counts), ``rejections`` (every rejected row: file, line, field, reason) and
``action_history`` (the partnership's actions, one row per change, never overwritten:
:mod:`geodata.store.actions`).

A store file records its :data:`SCHEMA_VERSION` in ``meta``; a file without one was made before
versions were recorded and is version 1. Opening a store runs the :data:`MIGRATIONS` from its
version up, in one transaction; a file of a newer version than this code is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import shapely

from geodata import boundaries, sources
from geodata.assign import best_fit
from geodata.store.connection import StoreError
from loaders import outcomes as outcomes_schema
from loaders import schema

#: The schema this code writes and reads; a store file of a newer one is refused.
SCHEMA_VERSION = 3

#: Sources whose records are area counts, queried from ``area_counts`` through ``lsoa_wards``.
AREA_SOURCES = sources.ids(kind=sources.AREA_COUNTS)


def _columns(columns) -> str:
    return ", ".join(f'"{c.name}" {c.sql}' for c in columns)


#: Every table of :data:`SCHEMA_VERSION`: name -> column definitions.
TABLES = {
    "meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
    "areas": "level VARCHAR, code VARCHAR, name VARCHAR, geometry BLOB, PRIMARY KEY (level, code)",
    "population": "lsoa_code VARCHAR PRIMARY KEY, population BIGINT",
    "lsoa_wards": "lsoa_code VARCHAR PRIMARY KEY, ward_code VARCHAR, share DOUBLE",
    "incidents": f"{_columns(schema.COLUMNS)}, load_id BIGINT",
    "area_counts": "source VARCHAR NOT NULL, dataset VARCHAR NOT NULL, month DATE NOT NULL, "
    "lsoa_code VARCHAR NOT NULL, category VARCHAR NOT NULL, subcategory VARCHAR, count BIGINT NOT NULL, "
    "load_id BIGINT",
    "district_stats": "source VARCHAR NOT NULL, dataset VARCHAR NOT NULL, year VARCHAR NOT NULL, "
    "area_code VARCHAR NOT NULL, area_name VARCHAR, region VARCHAR, measure VARCHAR NOT NULL, value DOUBLE, "
    "note VARCHAR, load_id BIGINT",
    "outcomes": f"{_columns(outcomes_schema.COLUMNS)}, load_id BIGINT",
    "partitions": "source VARCHAR, dataset VARCHAR, month DATE, rows BIGINT, load_id BIGINT, loaded_at TIMESTAMP, "
    "PRIMARY KEY (source, dataset, month)",
    "loads": "load_id BIGINT PRIMARY KEY, source VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, "
    "inputs VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, no_location BIGINT, "
    "outside_area BIGINT",
    "rejections": "load_id BIGINT, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR",
    # the partnership's actions: append-only, one row per change (geodata/store/actions.py)
    "action_history": "action_id VARCHAR NOT NULL, seq BIGINT NOT NULL, changed_at TIMESTAMP NOT NULL, "
    "changed_by VARCHAR NOT NULL, change VARCHAR NOT NULL, state VARCHAR NOT NULL, PRIMARY KEY (action_id, seq)",
}


def _create_tables(con: duckdb.DuckDBPyConnection, names, if_missing: bool = False) -> None:
    for name in names:
        con.execute(f"CREATE TABLE {'IF NOT EXISTS ' * if_missing}{name} ({TABLES[name]})")


def create(
    con: duckdb.DuckDBPyConnection,
    wards: boundaries.Areas,
    lsoas: boundaries.Areas,
    population: list[tuple[str, int]],
    meta: dict[str, str],
) -> None:
    """Create every table of :data:`SCHEMA_VERSION` on ``con`` (in the caller's transaction) and
    fill the area's fixed parts: its wards and LSOAs, their best-fit lookup, ``population`` and
    ``meta`` (with the schema version)."""
    _create_tables(con, TABLES)
    con.executemany(
        "INSERT INTO areas VALUES (?, ?, ?, ?)",
        [
            (level, c, n, shapely.to_wkb(g))
            for level, a in (("ward", wards), ("lsoa", lsoas))
            for c, n, g in zip(a.codes, a.names, a.geometries)
        ],
    )
    _fill_lsoa_wards(con, wards, lsoas)
    if population:
        con.executemany("INSERT INTO population VALUES (?, ?)", population)
    con.executemany("INSERT INTO meta VALUES (?, ?)", [*meta.items(), ("schema_version", str(SCHEMA_VERSION))])


def stored_areas(con: duckdb.DuckDBPyConnection) -> dict[str, boundaries.Areas]:
    """The stored areas by level ('ward', 'lsoa'), each sorted by code."""
    rows = con.execute("SELECT level, code, name, geometry FROM areas ORDER BY level, code").fetchall()
    out = {}
    for level in ("ward", "lsoa"):
        mine = [r for r in rows if r[0] == level]
        out[level] = boundaries.Areas(
            np.array([r[1] for r in mine], dtype=object),
            np.array([r[2] for r in mine], dtype=object),
            shapely.from_wkb([r[3] for r in mine]),
        )
    return out


def _fill_lsoa_wards(con: duckdb.DuckDBPyConnection, wards: boundaries.Areas, lsoas: boundaries.Areas) -> None:
    codes, shares = best_fit(lsoas, wards)
    con.executemany(
        "INSERT INTO lsoa_wards VALUES (?, ?, ?)", [(c, w, float(s)) for c, w, s in zip(lsoas.codes, codes, shares)]
    )


def _to_v2(con: duckdb.DuckDBPyConnection) -> None:
    """Version 1 -> 2: the tables added after the first stores were built (area counts, their
    LSOA -> ward lookup, district statistics, outcomes) and the canonical columns added since
    (``size_band`` ... ``synthetic``), each created only when missing (a version-1 file may hold
    some of them already: versions were not recorded then)."""
    _create_tables(con, ("area_counts", "lsoa_wards", "district_stats", "outcomes"), if_missing=True)
    if con.execute("SELECT count(*) FROM lsoa_wards").fetchall()[0][0] == 0:
        areas = stored_areas(con)
        _fill_lsoa_wards(con, areas["ward"], areas["lsoa"])
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'incidents'"
        ).fetchall()
    }
    for col in schema.COLUMNS:
        if col.name not in have:
            con.execute(f'ALTER TABLE incidents ADD COLUMN "{col.name}" {col.sql}')


def _to_v3(con: duckdb.DuckDBPyConnection) -> None:
    """Version 2 -> 3: the partnership's actions and the history of every change to them
    (``action_history``, :mod:`geodata.store.actions`), empty."""
    _create_tables(con, ("action_history",))


#: The migrations: ``MIGRATIONS[v - 1]`` brings a version-``v`` store to version ``v + 1``.
MIGRATIONS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (_to_v2, _to_v3)


def version(path: Path, meta: dict[str, str]) -> int:
    """The schema version a store's ``meta`` records (1 when it records none: made before versions
    were recorded); :class:`StoreError` (one line naming ``path`` and both versions) when it is newer
    than :data:`SCHEMA_VERSION`."""
    text = meta.get("schema_version", "1")
    if not text.isdigit():
        raise StoreError(f"{path}: the store's schema version {text!r} is not a number; not a store this code made")
    have = int(text)
    if have > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: the store is schema version {have}, newer than this CSP Hotspots reads (version "
            f"{SCHEMA_VERSION}); upgrade CSP Hotspots, or set another [store] path"
        )
    return have


def migrate(con: duckdb.DuckDBPyConnection, have: int) -> None:
    """Bring the store on ``con`` from version ``have`` to :data:`SCHEMA_VERSION`, in one transaction."""
    if have == SCHEMA_VERSION:
        return
    con.execute("BEGIN")
    try:
        for step in MIGRATIONS[have - 1 :]:
            step(con)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
