"""The store: one embedded DuckDB file per area config (no server).

Tables: ``incidents`` (the canonical schema, :mod:`loaders.schema`, plus
``load_id``), ``outcomes`` (police.uk outcomes files, :data:`loaders.outcomes.COLUMNS`, plus
``load_id``), ``areas`` (wards and LSOAs of the config, WKB in EPSG:27700),
``population`` (residents per LSOA), ``partitions`` (which source, dataset and
month is loaded, and by which load), ``loads`` (load history with counts) and
``rejections`` (every rejected row: file, line, field, reason).

Ingest is idempotent: data.police.uk republishes whole months, so a
(source, dataset, month) present in a new load replaces the stored one whole,
and a whole ingest runs in one transaction: if it fails or the process dies,
the store keeps its previous state. A partition whose new load has fewer than
:data:`SHRINK_LIMIT` of the rows the store holds (a truncated download) is
refused, and the whole ingest with it, unless ``replace_smaller`` is given.
Queries go to Arrow and then pandas (not ``.df()``, ~10x slower on 1M rows).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geodata import boundaries, sources
from geodata.assign import assign, best_fit
from geodata.config import Config, PopulationSpec
from loaders import outcomes as outcomes_schema
from loaders import schema
from loaders.report import LoadReport
from loaders.schema import parse_month

if TYPE_CHECKING:  # pandas is imported by the queries only: `csp-hotspots ingest` never needs it
    import pandas as pd

_DDL = f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE areas (level VARCHAR, code VARCHAR, name VARCHAR, geometry BLOB, PRIMARY KEY (level, code));
CREATE TABLE population (lsoa_code VARCHAR PRIMARY KEY, population BIGINT);
CREATE TABLE incidents ({", ".join(f'"{c.name}" {c.sql}' for c in schema.COLUMNS)}, load_id BIGINT);
CREATE TABLE partitions (source VARCHAR, dataset VARCHAR, month DATE, rows BIGINT, load_id BIGINT,
                         loaded_at TIMESTAMP, PRIMARY KEY (source, dataset, month));
CREATE TABLE loads (load_id BIGINT PRIMARY KEY, source VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
                    inputs VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT,
                    no_location BIGINT, outside_area BIGINT);
CREATE TABLE rejections (load_id BIGINT, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR);
"""
#: Counts per LSOA (sources that publish area counts, e.g. FixMyStreet), the LSOA -> ward
#: best-fit lookup they are summed through, and district statistics (DEFRA, loaders.defra), in long
#: form: added to stores built before them on open.
_AREA_DDL = f"""
CREATE TABLE IF NOT EXISTS area_counts (source VARCHAR NOT NULL, dataset VARCHAR NOT NULL, month DATE NOT NULL,
                                        lsoa_code VARCHAR NOT NULL, category VARCHAR NOT NULL, subcategory VARCHAR,
                                        count BIGINT NOT NULL, load_id BIGINT);
CREATE TABLE IF NOT EXISTS lsoa_wards (lsoa_code VARCHAR PRIMARY KEY, ward_code VARCHAR, share DOUBLE);
CREATE TABLE IF NOT EXISTS district_stats (source VARCHAR NOT NULL, dataset VARCHAR NOT NULL, year VARCHAR NOT NULL,
                                           area_code VARCHAR NOT NULL, area_name VARCHAR, region VARCHAR,
                                           measure VARCHAR NOT NULL, value DOUBLE, note VARCHAR, load_id BIGINT);
CREATE TABLE IF NOT EXISTS outcomes ({", ".join(f'"{c.name}" {c.sql}' for c in outcomes_schema.COLUMNS)},
                                     load_id BIGINT);
"""
#: Tables added after the first stores were built, created on open when missing.
_ADDED_TABLES = ("lsoa_wards", "district_stats", "outcomes")
#: Sources whose records are area counts, queried from ``area_counts`` through ``lsoa_wards``.
AREA_SOURCES = sources.ids(kind=sources.AREA_COUNTS)


class StoreError(Exception):
    """A store that cannot be used as asked; ``str()`` is one line for the user."""


#: A DuckDB database file's three headers (the main header and two database headers, 4 KiB each).
_DUCKDB_HEADER_BYTES = 3 * 4096


#: A partition (source, dataset, month; DEFRA: year) is refused when its new load has fewer than this
#: share of the rows the store holds for it: a download cut short (1,012 -> 396 rows) replaced a full
#: month silently. ``replace_smaller`` (``--replace-smaller``) replaces it anyway.
SHRINK_LIMIT = 0.5


def _check_shrink(stored: dict[tuple, int], new: dict[tuple, int], replace_smaller: bool) -> None:
    """Raise :class:`StoreError` naming the partitions whose ``new`` row count is under
    :data:`SHRINK_LIMIT` of the ``stored`` one (keys (source, dataset, month or year))."""
    if replace_smaller:
        return
    shrunk = sorted((k, n, stored[k]) for k, n in new.items() if n < SHRINK_LIMIT * stored.get(k, 0))
    if shrunk:
        (source, dataset, part), n, held = shrunk[0]
        part = part.strftime("%Y-%m") if isinstance(part, date) else part
        more = f" (and {len(shrunk) - 1} more)" if len(shrunk) > 1 else ""
        raise StoreError(
            f"{source} {dataset} {part}: the new load has {n:,} row{'s' * (n != 1)}, the store holds "
            f"{held:,}: fewer than half, as a truncated download would have{more}; nothing was "
            "changed: check the file, or give --replace-smaller to replace the stored rows anyway"
        )


def _fingerprint(spec) -> str:
    digest = hashlib.sha256(Path(spec.file).read_bytes())
    digest.update(f"{spec.code_field}|{spec.name_field}|{spec.layer}".encode())
    return digest.hexdigest()


#: Rows per row group when the store is written by its only user (``exclusive``): DuckDB writes a
#: full row group to the file (compressed, on its worker threads) while the insert runs, so a
#: county's 108,465 rows (under one default 122,880-row group) no longer wait for the commit to be
#: compressed on one thread (commit 0.16 s -> 0.01 s; file 8.7 -> 9.7 MB).
EXCLUSIVE_ROW_GROUP = 32_768


class Store:
    """A DuckDB store for one area. Create with :func:`open_store`.

    ``exclusive``: this Store is the only user of the file in this process (the command line),
    so its connections attach the file with :data:`EXCLUSIVE_ROW_GROUP`-row groups. An attached
    file cannot be opened by a second connection of the same process, so a server, whose threads
    share the file, leaves it false (default).
    """

    def __init__(self, path: Path, config: Config, exclusive: bool = False):
        self.path, self.config, self.exclusive = Path(path), config, exclusive
        self._areas: dict[str, boundaries.Areas] = {}
        self._population: dict[str, pd.DataFrame] = {}
        self._boundary: shapely.Geometry | None = None
        self._session = threading.local()

    def connect(self):
        """A connection to the store file, as a context manager that closes it when done; inside
        :meth:`session`, the session's connection (left open).

        Insertion order is not preserved (every query orders its result), which
        makes bulk inserts ~20% faster.
        """
        shared = getattr(self._session, "con", None)
        if shared is not None:
            return contextlib.nullcontext(shared)
        return _connect(self.path, EXCLUSIVE_ROW_GROUP if self.exclusive else None)

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
        with self.connect() as con:
            table = con.sql(sql, params=params or None).to_arrow_table()
        return table.to_pandas(date_as_object=False)

    # ------------------------------------------------------------------ creation
    def _create(self) -> None:
        cfg = self.config
        wards, lsoas = boundaries.read(cfg.wards), boundaries.read(cfg.lsoas)
        rows = [
            (level, c, n, shapely.to_wkb(g))
            for level, a in (("ward", wards), ("lsoa", lsoas))
            for c, n, g in zip(a.codes, a.names, a.geometries)
        ]
        with self.connect() as con:
            con.execute("BEGIN")
            con.execute(_DDL)
            con.executemany("INSERT INTO areas VALUES (?, ?, ?, ?)", rows)
            if cfg.population is not None:
                pop = _read_population(cfg.population)
                con.executemany("INSERT INTO population VALUES (?, ?)", list(pop.itertuples(index=False)))
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("area_name", cfg.area_name),
                    ("wards_fingerprint", _fingerprint(cfg.wards)),
                    ("lsoas_fingerprint", _fingerprint(cfg.lsoas)),
                    ("wards_label", cfg.wards.label),
                ],
            )
            self._add_area_tables(con, wards, lsoas)
            con.execute("COMMIT")

    @staticmethod
    def _add_area_tables(con, wards: boundaries.Areas, lsoas: boundaries.Areas) -> None:
        con.execute(_AREA_DDL)
        if con.execute("SELECT count(*) FROM lsoa_wards").fetchall()[0][0] == 0:
            codes, shares = best_fit(lsoas, wards)
            con.executemany(
                "INSERT INTO lsoa_wards VALUES (?, ?, ?)",
                [(c, w, float(s)) for c, w, s in zip(lsoas.codes, codes, shares)],
            )

    def _check_length(self, con) -> None:
        """Refuse a store file cut short (a copy or a disk that did not finish): DuckDB opens it,
        and every query reaching a missing block then fails.

        A DuckDB file is :data:`_DUCKDB_HEADER_BYTES` of headers, then whole blocks of
        ``block_size``. ``total_blocks`` counts free blocks too, and a checkpoint truncates the
        free blocks at the end of the file, so a sound file holds at least the blocks in use
        (``total_blocks - free_blocks``, wherever they lie), and whole blocks only."""
        blocks, free, block_size = con.execute(
            "SELECT total_blocks, free_blocks, block_size FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchall()[0]
        body = self.path.stat().st_size - _DUCKDB_HEADER_BYTES
        if body < (blocks - free) * block_size or body % block_size:
            raise StoreError(
                f"{self.path}: the store file is cut short ({body + _DUCKDB_HEADER_BYTES:,} bytes, for "
                f"{blocks - free:,} blocks of {block_size:,} in use: a copy or a disk that did not finish?); "
                "restore it from a backup, or delete it: it is rebuilt from the config, and your own "
                "loads must then be loaded again"
            )

    def _check(self) -> None:
        with contextlib.ExitStack() as stack:  # one connection for every check (each open costs ~15 ms)
            try:
                con = stack.enter_context(self.connect())
                self._check_length(con)
                meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: not a CSP Hotspots store ({str(exc).splitlines()[0]})") from None
            for key, spec in (("wards_fingerprint", self.config.wards), ("lsoas_fingerprint", self.config.lsoas)):
                if meta.get(key) != _fingerprint(spec):
                    raise StoreError(
                        f"{self.path}: built from other boundaries than {spec.file}; "
                        "delete the store file (it is rebuilt from the config) or set another "
                        "[store] path"
                    )
            if len(
                con.execute(
                    "SELECT 1 FROM information_schema.tables WHERE table_name IN "
                    f"({', '.join(repr(t) for t in _ADDED_TABLES)})"
                ).fetchall()
            ) < len(_ADDED_TABLES):
                self._add_area_tables(con, self.areas("ward", con), self.areas("lsoa", con))
            have = {
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'incidents'"
                ).fetchall()
            }
            for col in schema.COLUMNS:  # columns added to the schema after the store was built
                if col.name not in have:
                    con.execute(f'ALTER TABLE incidents ADD COLUMN "{col.name}" {col.sql}')

    # ------------------------------------------------------------------ ingest
    def areas(self, level: str = "ward", con: duckdb.DuckDBPyConnection | None = None) -> boundaries.Areas:
        """The stored areas of ``level`` ('ward' or 'lsoa'), sorted by code (read once, both levels;
        through ``con`` when given, else a new connection)."""
        if level not in ("ward", "lsoa"):
            raise ValueError(f"level must be 'ward' or 'lsoa', got {level!r}")
        if not self._areas:
            sql = "SELECT level, code, name, geometry FROM areas ORDER BY level, code"
            if con is None:
                with self.connect() as own:
                    rows = own.execute(sql).fetchall()
            else:
                rows = con.execute(sql).fetchall()
            for lev in ("ward", "lsoa"):
                mine = [r for r in rows if r[0] == lev]
                self._areas[lev] = boundaries.Areas(
                    np.array([r[1] for r in mine], dtype=object),
                    np.array([r[2] for r in mine], dtype=object),
                    shapely.from_wkb([r[3] for r in mine]),
                )
        return self._areas[level]

    def boundary(self) -> shapely.Geometry:
        """The area's outline: the union of its wards (EPSG:27700), computed once per Store."""
        if self._boundary is None:
            self._boundary = shapely.union_all(self.areas("ward").geometries)
        return self._boundary

    def ingest(
        self,
        batches: Iterable[tuple[pa.Table, LoadReport]],
        source: str,
        inputs: list[str],
        progress: Callable[[LoadReport], None] | None = None,
        replace_smaller: bool = False,
    ) -> LoadReport:
        """Assign wards and LSOAs to canonical batches and store them in one transaction.

        ``batches`` yields (canonical table, its load report), e.g. one per file;
        each (source, dataset, month) in a batch replaces what the store held for
        it (refused when it would shrink under :data:`SHRINK_LIMIT` of the stored
        rows, unless ``replace_smaller``). ``progress`` is called after each
        batch. Returns the combined report, also written to ``loads`` and
        ``rejections``.
        """
        report = LoadReport(source)
        with self.connect() as con:
            wards, lsoas = self.areas("ward", con), self.areas("lsoa", con)
            staging = _Staging(self.path)
            try:
                with _one_load(con, source, inputs, report) as load_id:
                    held = None if replace_smaller else _stored_rows(con, "partitions", "month", source)
                    buffer: list[pa.Table] = []
                    keys: set[tuple] = set()
                    for table, file_report in batches:
                        new_keys = _partitions(table)
                        if keys & new_keys or sum(t.num_rows for t in buffer) >= _FLUSH_ROWS:
                            # a later file of the same month replaces it: write the buffer first
                            report.outside_area += _write(con, buffer, wards, lsoas, load_id, staging, held)
                            buffer, keys = [], set()
                        buffer.append(table)
                        keys |= new_keys
                        report.add(file_report)
                        if progress:
                            progress(report)
                    report.outside_area += _write(con, buffer, wards, lsoas, load_id, staging, held)
            finally:
                staging.close()
        return report

    def ingest_area_counts(
        self, table: pa.Table, report: LoadReport, months: list[str], inputs: list[str], replace_smaller: bool = False
    ) -> LoadReport:
        """Store area counts (:data:`loaders.fixmystreet.COLUMNS`) for ``months`` ('YYYY-MM', every
        month the input covers, with rows or not) in one transaction, replacing what the store held
        for those (source, dataset, month)s (refused under :data:`SHRINK_LIMIT`, unless
        ``replace_smaller``). Returns ``report`` with ``rows_loaded`` set."""
        sources = set(table["source"].to_pylist()) | {report.source}
        if len(sources) != 1 or report.source not in AREA_SOURCES:
            raise StoreError(f"area counts must all be of one of {AREA_SOURCES}, got {sorted(sources)}")
        dataset = table["dataset"][0].as_py() if table.num_rows else None
        month_dates = [parse_month(m) for m in months]
        with self.connect() as con, _one_load(con, report.source, inputs, report) as load_id:
            con.register("batch", table.append_column("load_id", pa.array([load_id] * table.num_rows, pa.int64())))
            if dataset is not None:
                new = dict.fromkeys(((report.source, dataset, d) for d in month_dates), 0)
                new.update(_batch_rows(con, "month"))
                _check_shrink(_stored_rows(con, "partitions", "month", report.source), new, replace_smaller)
                con.execute(
                    "DELETE FROM area_counts WHERE source = ? AND dataset = ? AND month IN (SELECT unnest(?::DATE[]))",
                    [report.source, dataset, month_dates],
                )
                con.execute("INSERT INTO area_counts SELECT * FROM batch")
                con.executemany(
                    "INSERT OR REPLACE INTO partitions VALUES (?, ?, ?, "
                    "(SELECT count(*) FROM batch WHERE month = ?), ?, now()::TIMESTAMP)",
                    [(report.source, dataset, d, d, load_id) for d in month_dates],
                )
            con.unregister("batch")
            report.rows_loaded = table.num_rows
        return report

    def update_outcomes(self, source: str, dataset: str, outcomes: dict[str, str], load: str) -> int:
        """Set the ``outcome`` of stored records of ``source`` and ``dataset`` by ``record_id`` (one
        transaction, recorded in the load history as ``load``); returns how many records changed."""
        table = pa.table(
            {
                "record_id": pa.array(list(outcomes), pa.string()),
                "new_outcome": pa.array(list(outcomes.values()), pa.string()),
            }
        )
        report = LoadReport(source, files=[load], rows_read=len(outcomes))
        with self.connect() as con, _one_load(con, source, [load], report):
            con.register("latest", table)
            changed = con.execute(
                """UPDATE incidents SET outcome = latest.new_outcome FROM latest
                                     WHERE incidents.source = ? AND incidents.dataset = ?
                                       AND incidents.record_id = latest.record_id
                                       AND incidents.outcome IS DISTINCT FROM latest.new_outcome""",
                [source, dataset],
            ).fetchall()[0][0]
            con.unregister("latest")
            report.rows_loaded = changed
        return changed

    def ingest_outcomes(self, batches: Iterable[tuple[pa.Table, LoadReport]], inputs: list[str]) -> LoadReport:
        """Store police.uk outcome rows (:data:`loaders.outcomes.COLUMNS`) in one transaction: each
        (source, dataset, month) in them replaces what the ``outcomes`` table held for it (recorded in
        ``partitions`` as source :data:`loaders.outcomes.KIND`). Returns the combined report."""
        report = LoadReport(outcomes_schema.KIND)
        with self.connect() as con, _one_load(con, report.source, inputs, report) as load_id:
            for table, file_report in batches:
                report.add(file_report)
                con.register("batch", table.append_column("load_id", pa.array([load_id] * table.num_rows, pa.int64())))
                con.execute("""DELETE FROM outcomes USING (SELECT DISTINCT source, dataset, month FROM batch) b
                               WHERE outcomes.source = b.source AND outcomes.dataset = b.dataset
                                 AND outcomes.month = b.month""")
                con.execute("INSERT INTO outcomes BY NAME SELECT * FROM batch")
                con.execute(
                    """INSERT OR REPLACE INTO partitions
                               SELECT ?, dataset, month, count(*), any_value(load_id), now()::TIMESTAMP
                               FROM batch GROUP BY ALL""",
                    [outcomes_schema.KIND],
                )
                con.unregister("batch")
        return report

    def latest_outcomes(
        self,
        start: str | None = None,
        end: str | None = None,
        categories: list[str] | None = None,
        wards: list[str] | None = None,
    ) -> pd.DataFrame:
        """Each police.uk crime of the selection (filters as :meth:`incidents`) with its latest outcome.

        The latest outcome is the ``outcome`` of the crime's latest month in the ``outcomes`` table
        (by dataset and Crime ID); when that month lists two different outcomes, the one on the later
        line of the file, with ``ambiguous`` true. A crime no outcomes file mentions keeps its street
        file's "Last outcome category" (as published with the crime's month, or as updated by
        ``refresh --outcomes``). Columns: ``record_id, month, category, ward_code, outcome,
        outcome_month`` (null when from the street file), ``outcome_from`` ('outcomes file',
        'street file' or null when neither gives one), ``ambiguous``."""
        where, params = self._filters(start, end, categories, wards, "police.uk")
        return self._query(
            f"""
            WITH latest AS (SELECT dataset, record_id, max(month) AS month FROM outcomes
                            WHERE source = 'police.uk' GROUP BY ALL),
                 at_latest AS (SELECT o.dataset, o.record_id, o.month, arg_max(o.outcome, o.line) AS outcome,
                                      count(DISTINCT o.outcome) > 1 AS ambiguous
                               FROM outcomes o JOIN latest USING (dataset, record_id, month)
                               WHERE o.source = 'police.uk' GROUP BY ALL)
            SELECT i.record_id, i.month, i.category, i.ward_code, coalesce(a.outcome, i.outcome) AS outcome,
                   a.month AS outcome_month,
                   CASE WHEN a.outcome IS NOT NULL THEN 'outcomes file'
                        WHEN i.outcome IS NOT NULL THEN 'street file' END AS outcome_from,
                   coalesce(a.ambiguous, false) AS ambiguous
            FROM (SELECT * FROM incidents{where}) i
            LEFT JOIN at_latest a ON a.dataset = i.dataset AND a.record_id = i.record_id
            ORDER BY i.month, i.record_id""",
            params,
        )

    def ingest_district_stats(
        self, table: pa.Table, report: LoadReport, inputs: list[str], replace_smaller: bool = False
    ) -> LoadReport:
        """Store district statistics (:data:`loaders.defra.COLUMNS`) in one transaction: the
        (source, dataset, year)s in ``table`` replace what the store held for them (refused under
        :data:`SHRINK_LIMIT`, unless ``replace_smaller``)."""
        with self.connect() as con, _one_load(con, report.source, inputs, report) as load_id:
            con.register("batch", table.append_column("load_id", pa.array([load_id] * table.num_rows, pa.int64())))
            _check_shrink(
                _stored_rows(con, "district_stats", "year", report.source), _batch_rows(con, "year"), replace_smaller
            )
            con.execute("""DELETE FROM district_stats USING (SELECT DISTINCT source, dataset, year FROM batch) b
                           WHERE district_stats.source = b.source AND district_stats.dataset = b.dataset
                             AND district_stats.year = b.year""")
            con.execute("INSERT INTO district_stats BY NAME SELECT * FROM batch")
            con.unregister("batch")
        return report

    def district_stats(
        self, dataset: str | None = None, measures: list[str] | None = None, area_codes: list[str] | None = None
    ) -> pd.DataFrame:
        """District statistics (DEFRA): ``dataset, year, area_code, area_name, region, measure,
        value, note``; a null ``value`` is not available (``note`` says why), never zero."""
        clauses, params = ["source = ?"], [sources.DEFRA.id]
        for col, values in (
            ("dataset", [dataset] if dataset else None),
            ("measure", measures),
            ("area_code", area_codes),
        ):
            if values:
                clauses.append(f"{col} IN ({', '.join('?' * len(values))})")
                params += list(values)
        return self._query(
            "SELECT dataset, year, area_code, area_name, region, measure, value, note "
            f"FROM district_stats WHERE {' AND '.join(clauses)} "
            "ORDER BY dataset, year, area_code, measure",
            params,
        )

    # ------------------------------------------------------------------ queries
    def _filters(
        self,
        start=None,
        end=None,
        categories=None,
        wards=None,
        source=sources.DEFAULT,
        flags=None,
        inside: bool = False,
    ):
        clauses: list[str] = []
        params: list[object] = []
        if inside and not wards:  # the study area is the district: records assigned to one of its wards
            clauses.append("ward_code IS NOT NULL")
        if flags:
            if source in AREA_SOURCES:
                raise ValueError(f"{source} records carry no flags")
            clauses.append("list_has_any(string_split(coalesce(flags, ''), ';'), ?::VARCHAR[])")
            params.append(list(flags))
        if source is not None:
            clauses.append("source = ?")
            params.append(source)
        if start is not None:
            clauses.append("month >= ?")
            params.append(parse_month(start, "start"))
        if end is not None:
            clauses.append("month <= ?")
            params.append(parse_month(end, "end"))
        if categories:
            clauses.append(f"category IN ({', '.join('?' * len(categories))})")
            params += list(categories)
        if wards:
            clauses.append(f"ward_code IN ({', '.join('?' * len(wards))})")
            params += list(wards)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def incidents(
        self,
        start: str | None = None,
        end: str | None = None,
        categories: list[str] | None = None,
        wards: list[str] | None = None,
        source: str | None = sources.DEFAULT,
        flags: list[str] | None = None,
        inside: bool = False,
    ):
        """Incidents as a canonical GeoDataFrame, filtered by month range (YYYY-MM, inclusive),
        categories, ward codes, source (default police.uk; ``None`` for all), flags (records
        with any of them) and, with ``inside``, only records in the area's wards (a force-wide
        store holds the county; the study area is the district or the chosen wards)."""
        where, params = self._filters(start, end, categories, wards, source, flags, inside)
        cols = ", ".join(f'"{n}"' for n in schema.NAMES)
        with self.connect() as con:
            table = con.sql(
                f"SELECT {cols} FROM incidents{where} ORDER BY month, record_id", params=params or None
            ).to_arrow_table()
        return schema.to_geodataframe(table.cast(schema.ARROW_SCHEMA))

    def counts(self, by: tuple[str, ...] = ("ward_code", "month", "category"), **filters) -> pd.DataFrame:
        """Counts of incidents grouped by ``by`` (canonical column names), column ``incidents``.

        Filters as for :meth:`incidents`. Only combinations with incidents appear. For an area-count
        source (:data:`AREA_SOURCES`) the counts are summed per LSOA's best-fit ward.
        """
        table, measure, names = _records(filters.get("source", sources.DEFAULT))
        unknown = [b for b in by if b not in names]
        if unknown:
            raise ValueError(f"cannot group by {unknown}; columns are {', '.join(names)}")
        where, params = self._filters(**filters)
        keys = ", ".join(f'"{b}"' for b in by)
        return self._query(
            f"SELECT {keys}, {measure} AS incidents FROM {table}{where} GROUP BY {keys} ORDER BY {keys}", params
        )

    def ward_summary(self, **filters) -> pd.DataFrame:
        """One row per ward of the area (zeros included): ``ward_code, ward_name, incidents``."""
        where, params = self._filters(**filters)
        table, measure, _ = _records(filters.get("source", sources.DEFAULT))
        return self._query(
            f"""SELECT a.code AS ward_code, a.name AS ward_name,
                                      coalesce(c.n, 0)::BIGINT AS incidents
                               FROM areas a LEFT JOIN (SELECT ward_code, {measure} AS n FROM {table}{where}
                                                       GROUP BY ward_code) c ON c.ward_code = a.code
                               WHERE a.level = 'ward' ORDER BY a.code""",
            params,
        )

    def synthetic_count(self, **filters) -> int:
        """How many records matching ``filters`` (as :meth:`counts`) are synthetic (always 0 for an
        area-count source: those are real published counts)."""
        if filters.get("source", sources.DEFAULT) in AREA_SOURCES:
            return 0
        where, params = self._filters(**filters)
        where = (where + " AND" if where else " WHERE") + " synthetic"
        with self.connect() as con:
            return con.execute(f"SELECT count(*) FROM incidents{where}", params).fetchall()[0][0]

    def wards(self) -> pd.DataFrame:
        """The area's wards: ``ward_code, ward_name``, sorted by code (from :meth:`areas`, read once)."""
        import pandas as pd

        wards = self.areas("ward")
        return pd.DataFrame({"ward_code": wards.codes.astype(str), "ward_name": wards.names.astype(str)})

    def population(self, level: str = "ward") -> pd.DataFrame:
        """Residents per LSOA, or per ward by the one LSOA -> ward rule: each LSOA given whole to
        the ward covering most of its area (``lsoa_wards``, :func:`geodata.assign.best_fit`; the
        same lookup area-count sources such as FixMyStreet are summed through). Columns ``code,
        population``; empty without a population file. Computed once per Store (population and
        areas do not change after creation)."""
        if level not in self._population:
            if level == "ward":
                pop = self._query("""SELECT l.ward_code AS code, sum(p.population)::BIGINT AS population
                                     FROM population p JOIN lsoa_wards l USING (lsoa_code)
                                     WHERE l.ward_code IS NOT NULL GROUP BY l.ward_code ORDER BY code""")
            else:
                pop = self._query("SELECT lsoa_code AS code, population FROM population ORDER BY code")
            self._population[level] = pop
        return self._population[level].copy()

    def loads(self) -> pd.DataFrame:
        """Load history, newest first."""
        return self._query("SELECT * FROM loads ORDER BY load_id DESC")

    def rejections(self, load_id: int | None = None) -> pd.DataFrame:
        """Rejected rows (of one load, or all): load_id, file, line, field, reason."""
        where = " WHERE load_id = ?" if load_id is not None else ""
        return self._query(
            f"SELECT * FROM rejections{where} ORDER BY load_id, file, line", [load_id] if load_id is not None else []
        )

    def partitions(self) -> pd.DataFrame:
        """What is loaded: source, dataset, month, rows, load_id, loaded_at."""
        return self._query("SELECT * FROM partitions ORDER BY source, dataset, month")


#: Seconds to wait for another process (an ingest) to release the store file before giving up;
#: environment variable CSP_HOTSPOTS_LOCK_WAIT overrides it.
LOCK_WAIT_S = 120.0


def _connect(path: Path, row_group_size: int | None = None):
    """A connection to ``path``, waiting while another process holds the file.

    With ``row_group_size``, the file is attached (as ``store``, the connection's default
    database) with that row group size instead of DuckDB's default 122,880 rows.

    DuckDB lets one process at a time open a database file for writing. An
    ingest holds it for its one transaction (a second or two for a month; a
    minute for ten million rows), so a dashboard read or a second ingest waits
    for it here (retrying with backoff from 50 ms to 0.5 s) instead of failing;
    after :data:`LOCK_WAIT_S` it raises :class:`StoreError` saying so.
    """
    wait = float(os.environ.get("CSP_HOTSPOTS_LOCK_WAIT", LOCK_WAIT_S))
    deadline, delay = time.monotonic() + wait, 0.05
    while True:
        try:
            if row_group_size is None:
                return duckdb.connect(str(path), config={"preserve_insertion_order": False})
            con = duckdb.connect(":memory:", config={"preserve_insertion_order": False})
            try:
                con.execute(f"ATTACH ? AS store (ROW_GROUP_SIZE {int(row_group_size)})", [str(path)])
                con.execute("USE store")
            except BaseException:
                con.close()
                raise
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"{path}: busy: another process (an ingest?) is writing to the store; waited "
                    f"{wait:g} s, try again when it has finished"
                ) from None
        time.sleep(delay)
        delay = min(2 * delay, 0.5)


@contextlib.contextmanager
def _one_load(con, source: str, inputs: list[str], report: LoadReport):
    """One load as one transaction on ``con``: yields its ``load_id``; when the block ends, writes the
    load's history row and rejections from ``report`` (as the block left it) and commits; on any
    error (or a kill) nothing of it stays."""
    started = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN")
    try:
        load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]
        yield load_id
        _record_load(con, load_id, source, started, inputs, report)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _record_load(con, load_id: int, source: str, started: datetime, inputs: list[str], report: LoadReport) -> None:
    """Write a load's history row and its rejections (inside the load's transaction)."""
    con.execute(
        "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            source,
            started,
            datetime.now(UTC).replace(tzinfo=None),
            json.dumps(inputs),
            report.rows_read,
            report.rows_loaded,
            len(report.rejected),
            report.no_location,
            report.outside_area,
        ],
    )
    if report.rejected:  # one insert from Arrow (row by row took 0.43 ms a rejection)
        rejected = report.rejected
        con.register(
            "rejected",
            pa.table(
                {
                    "load_id": pa.array(np.full(len(rejected), load_id, dtype="int64")),
                    "file": pa.array([r.file for r in rejected], pa.string()),
                    "line": pa.array([r.line for r in rejected], pa.int64()),
                    "field": pa.array([r.field for r in rejected], pa.string()),
                    "reason": pa.array([r.reason for r in rejected], pa.string()),
                }
            ),
        )
        con.execute("INSERT INTO rejections BY NAME SELECT * FROM rejected")
        con.unregister("rejected")


def _stored_rows(con, table: str, part: str, source: str) -> dict[tuple, int]:
    """Rows the store holds per (source, dataset, ``part``) of ``source`` in ``table`` (``partitions``,
    which counts them, or ``district_stats``)."""
    rows = "sum(rows)" if table == "partitions" else "count(*)"
    return {
        (s, d, p): int(n)
        for s, d, p, n in con.execute(
            f"SELECT source, dataset, {part}, {rows} FROM {table} WHERE source = ? GROUP BY ALL", [source]
        ).fetchall()
    }


def _batch_rows(con, part: str) -> dict[tuple, int]:
    """Rows per (source, dataset, ``part``) of the registered ``batch``."""
    return {
        (s, d, p): int(n)
        for s, d, p, n in con.execute(f"SELECT source, dataset, {part}, count(*) FROM batch GROUP BY ALL").fetchall()
    }


def _records(source: str | None) -> tuple[str, str, tuple[str, ...]]:
    """(table to count from, the count expression, the columns it can be grouped by) for ``source``."""
    if source in AREA_SOURCES:
        return (
            "(SELECT c.*, l.ward_code FROM area_counts c LEFT JOIN lsoa_wards l USING (lsoa_code))",
            "sum(count)::BIGINT",
            ("source", "dataset", "month", "lsoa_code", "ward_code", "category", "subcategory"),
        )
    return "incidents", "count(*)", schema.NAMES


def _partitions(table: pa.Table) -> set[tuple]:
    """The distinct (source, dataset, month) of a canonical table (without ``Table.group_by``,
    whose import of Arrow's query engine costs a CLI ingest 25 ms)."""
    if not table.num_rows:
        return set()
    columns = [pc.dictionary_encode(table[c]).combine_chunks() for c in ("source", "dataset", "month")]
    codes = np.unique(np.column_stack([c.indices.to_numpy() for c in columns]), axis=0)
    return {tuple(c.dictionary[int(i)].as_py() for c, i in zip(columns, row)) for row in codes}


#: Rows gathered before one DELETE + INSERT round trip to DuckDB (bounds memory).
_FLUSH_ROWS = 500_000


def _with_geography(table: pa.Table, wards, lsoas, load_id: int) -> tuple[pa.Table, int]:
    """Fill ward_code and lsoa_code by point-in-polygon and add load_id; also return how many
    located rows fall outside every ward."""
    x = table["x"].to_numpy(zero_copy_only=False).astype("float64")
    y = table["y"].to_numpy(zero_copy_only=False).astype("float64")
    ward = assign(wards, x, y)
    table = table.set_column(table.schema.get_field_index("ward_code"), "ward_code", pa.array(ward, pa.string()))
    table = table.set_column(
        table.schema.get_field_index("lsoa_code"), "lsoa_code", pa.array(assign(lsoas, x, y), pa.string())
    )
    outside = int(((ward == None) & ~np.isnan(x)).sum())  # noqa: E711
    return table.append_column("load_id", pa.array(np.full(table.num_rows, load_id, dtype="int64"))), outside


class _Staging:
    """Hands batches to DuckDB within one transaction without pinning their memory.

    DuckDB keeps a registered Arrow table alive until the transaction commits
    (measured: +270 MB per million rows, 5 GB at 10M rows). The first batch,
    usually the only one, goes straight from Arrow; later ones are written to a
    Parquet file beside the store and read back, so DuckDB owns their memory.

    The copies are the store's rows in plain form: their folder,
    ``.<store file name>.ingest-<pid>-<random>``, is readable by its owner only
    (0700) and each file is created 0600. A killed ingest cannot remove its
    folder; the next :func:`open_store` removes every such folder whose process
    has ended (:func:`remove_stale_staging`).
    """

    def __init__(self, store_path: Path):
        self.store_path, self.used = Path(store_path), 0
        self.tmp: Path | None = None

    def register(self, con, table: pa.Table) -> None:
        self.used += 1
        if self.used == 1:
            con.register("batch", table)
            return
        import tempfile

        import pyarrow.parquet as pq

        if self.tmp is None:
            self.tmp = Path(
                tempfile.mkdtemp(dir=self.store_path.parent, prefix=f".{self.store_path.name}.ingest-{os.getpid()}-")
            )
        path = self.tmp / f"batch-{self.used}.parquet"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            pq.write_table(table, fh, compression="none")
        quoted = "'" + str(path).replace("'", "''") + "'"  # a SQL string literal: a view takes no parameters
        con.execute(f"CREATE OR REPLACE TEMP VIEW batch AS SELECT * FROM read_parquet({quoted})")

    def close(self) -> None:
        if self.tmp is not None:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)


def remove_stale_staging(store_path: Path) -> list[Path]:
    """Remove the staging folders (:class:`_Staging`) beside ``store_path`` left by ingests whose
    process has ended (killed mid-way); return them. A running ingest's folder is left alone."""
    import shutil
    from glob import escape

    store_path, removed = Path(store_path), []
    stem = f".{store_path.name}.ingest-"
    for folder in store_path.parent.glob(escape(stem) + "*"):
        pid = folder.name.removeprefix(stem).split("-", 1)[0]
        if not pid.isdigit() or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running (an ingest of this store now)
        except ProcessLookupError:
            pass
        except PermissionError:  # another user's process: not ours to judge
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _write(
    con, tables: list[pa.Table], wards, lsoas, load_id: int, staging: _Staging, held: dict[tuple, int] | None
) -> int:
    """Assign geography to ``tables`` (all at once: snap points repeat across months, so each
    distinct point is tested once) and replace the (source, dataset, month) partitions they hold,
    unless one shrinks under :data:`SHRINK_LIMIT` of ``held`` (the rows per partition when the load
    began; None: no check). Returns the number of located rows outside the area."""
    if not tables:
        return 0
    batch, outside = _with_geography(pa.concat_tables(tables), wards, lsoas, load_id)
    staging.register(con, batch)
    del batch
    if held is not None:
        _check_shrink(held, _batch_rows(con, "month"), False)
    con.execute("""DELETE FROM incidents USING (SELECT DISTINCT source, dataset, month FROM batch) b
                   WHERE incidents.source = b.source AND incidents.dataset = b.dataset
                     AND incidents.month = b.month""")
    con.execute("INSERT INTO incidents BY NAME SELECT * FROM batch")
    con.execute("""INSERT OR REPLACE INTO partitions
                   SELECT source, dataset, month, count(*), any_value(load_id), now()::TIMESTAMP
                   FROM batch GROUP BY ALL""")
    if staging.used == 1:
        con.unregister("batch")
    return outside


def _read_population(spec: PopulationSpec) -> pd.DataFrame:
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


def open_store(
    config: Config, build: bool = True, progress: Callable[[LoadReport], None] | None = None, exclusive: bool = False
) -> Store:
    """Open the config's store; when it does not exist yet and ``build`` is true, create it
    and load the config's bundled sources (the first run on the bundled data). ``exclusive``:
    see :class:`Store` (default false)."""
    store = Store(config.store_path, config, exclusive)
    if store.path.exists():
        remove_stale_staging(store.path)
        store._check()
        return store
    if not build:
        raise StoreError(f"{store.path}: no store yet")
    store.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        store._create()
        os.chmod(store.path, 0o600)  # council records: the owner's only, before any is loaded
        if config.bundled_police:
            from geodata.ingest import ingest_police

            ingest_police(store, config.bundled_police, progress=progress)
        if config.bundled_outcomes:
            from geodata.ingest import ingest_outcomes

            ingest_outcomes(store, config.bundled_outcomes)
        if config.bundled_fixmystreet:
            from geodata.ingest import ingest_fixmystreet

            for path in config.bundled_fixmystreet:
                ingest_fixmystreet(store, path)
        if config.bundled_defra:
            from geodata.ingest import ingest_defra

            for path in config.bundled_defra:
                ingest_defra(store, path)
    except BaseException:
        store.path.unlink(missing_ok=True)
        Path(str(store.path) + ".wal").unlink(missing_ok=True)
        raise
    return store
