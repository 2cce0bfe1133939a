"""Writing to the store (a mixin of :class:`geodata.store.Store`): one load is one transaction, and
every source goes in through one primitive, :func:`replacing` ("replace these partitions").

The rule, for every source: data.police.uk republishes whole months, so a partition (source,
dataset, month; DEFRA: year) present in a load replaces the stored one whole, and a whole load runs
in one transaction: if it fails or the process dies, the store keeps its previous state and nothing
of the load stays. A partition whose new load has fewer than :data:`SHRINK_LIMIT` of the rows the
store held when the load began (a truncated download) is refused, and the whole load with it,
unless ``replace_smaller`` is given. Each load writes its history row (``loads``) and every
rejected row (``rejections``).

The differences between sources are real ones, given to the primitive:

- police.uk street files and council records (``incidents``) are points: each batch is given its
  ward and LSOA (point in polygon) before it is written, and the located rows outside every ward
  are counted (:meth:`Writes.ingest`);
- FixMyStreet area counts (``area_counts``) name the months a file covers: a covered month with no
  row replaces the stored month too, and is listed as loaded with 0 rows (a known zero, not a
  missing month);
- outcomes (``outcomes``) carry the source ``police.uk`` of the crimes they follow, and are listed
  in ``partitions`` under their load's source :data:`loaders.outcomes.KIND`, beside the street
  months of the same force and month;
- DEFRA district statistics (``district_stats``) are by financial year, not month, so they are not
  listed in ``partitions`` (its ``month`` is a date) and their shrink check counts the table's rows.

Removing a month (:meth:`Writes.remove_month`, ``csp-hotspots months remove``: a month an older
version loaded that the loaders now refuse) goes through the same primitive: the writer drops the
partitions whole (:meth:`PartitionWriter.drop`), and the removal is a load in the history like any
other (its input names what was removed).

Setting a crime's latest outcome (:meth:`Writes.update_outcomes`) changes rows in place and is no
partition write; it is one load and one transaction all the same.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geodata import sources
from geodata.assign import assign
from geodata.store.base import StoreBase
from geodata.store.connection import Staging, StoreError, bump_generation
from geodata.store.schema import AREA_SOURCES
from loaders import outcomes as outcomes_schema
from loaders.months import parse as parse_month
from loaders.report import LoadReport

#: A partition (source, dataset, month; DEFRA: year) is refused when its new load has fewer than this
#: share of the rows the store holds for it: a download cut short (1,012 -> 396 rows) replaced a full
#: month silently. ``replace_smaller`` (``--replace-smaller``) replaces it anyway.
SHRINK_LIMIT = 0.5

#: Rows gathered before one DELETE + INSERT round trip to DuckDB (bounds memory).
_FLUSH_ROWS = 500_000


@dataclass(frozen=True)
class Target:
    """A table written in partitions (source, dataset, ``part``); ``listed``: its partitions are
    listed in ``partitions`` (by month, under the load's source)."""

    table: str
    part: str = "month"
    listed: bool = True


INCIDENTS = Target("incidents")
AREA_COUNTS = Target("area_counts")
OUTCOMES = Target("outcomes")
DISTRICT_STATS = Target("district_stats", part="year", listed=False)


def _check_shrink(stored: dict[tuple, int], new: dict[tuple, int]) -> None:
    """Raise :class:`StoreError` naming the partitions whose ``new`` row count is under
    :data:`SHRINK_LIMIT` of the ``stored`` one (keys (source, dataset, month or year))."""
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


@contextlib.contextmanager
def one_load(
    con: duckdb.DuckDBPyConnection, source: str, inputs: list[str], report: LoadReport, store_path: Path
) -> Iterator[int]:
    """One load as one transaction on ``con``: yields its ``load_id``; when the block ends, writes the
    load's history row and rejections from ``report`` (as the block left it), commits and bumps the
    load generation of the store at ``store_path`` (:func:`~geodata.store.connection.bump_generation`:
    every page's caches follow it); on any error (or a kill) nothing of it stays."""
    started = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN")
    try:
        load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]
        yield load_id
        record_load(con, load_id, source, started, inputs, report)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    bump_generation(store_path)


def record_load(
    con: duckdb.DuckDBPyConnection, load_id: int, source: str, started: datetime, inputs: list[str], report: LoadReport
) -> None:
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


def _partitions(table: pa.Table, part: str) -> set[tuple]:
    """The distinct (source, dataset, ``part``) of a table (without ``Table.group_by``, whose import
    of Arrow's query engine costs a CLI ingest 25 ms)."""
    if not table.num_rows:
        return set()
    columns = [pc.dictionary_encode(table[c]).combine_chunks() for c in ("source", "dataset", part)]
    codes = np.unique(np.column_stack([c.indices.to_numpy() for c in columns]), axis=0)
    return {tuple(c.dictionary[int(i)].as_py() for c, i in zip(columns, row)) for row in codes}


class PartitionWriter:
    """The partition writer of one load (made by :func:`replacing`): :meth:`add` queues tables of
    ``target`` rows; each flush replaces the partitions they hold (and the ``covers`` given) whole.

    Tables are gathered up to :data:`_FLUSH_ROWS` rows and written in one DELETE + INSERT; a table
    holding a partition already queued flushes the queue first, so a later file of the same month
    replaces an earlier one. ``prepare`` is applied to each flush's rows before they are written.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        staging: Staging,
        target: Target,
        source: str,
        load_id: int,
        replace_smaller: bool,
        prepare: Callable[[pa.Table], pa.Table] | None,
    ):
        self.con, self.staging, self.target, self.source, self.load_id = con, staging, target, source, load_id
        self.prepare = prepare
        self.stored = self._stored_rows()
        self.held = None if replace_smaller else self.stored
        self.written: set[tuple] = set()  # (dataset, part) of every partition written
        self._buffer: list[pa.Table] = []
        self._keys: set[tuple] = set()
        self._covers: set[tuple] = set()

    def _stored_rows(self) -> dict[tuple, int]:
        """Rows the store holds per (source, dataset, part) of the load's source."""
        if self.target.listed:
            sql = "SELECT source, dataset, month, sum(rows) FROM partitions WHERE source = ? GROUP BY ALL"
        else:
            sql = f"SELECT source, dataset, {self.target.part}, count(*) FROM {self.target.table} "
            sql += "WHERE source = ? GROUP BY ALL"
        return {(s, d, p): int(n) for s, d, p, n in self.con.execute(sql, [self.source]).fetchall()}

    def add(self, table: pa.Table, covers: Iterable[tuple] = ()) -> None:
        """Queue ``table``; ``covers``: (source, dataset, part) it replaces even where it has no row."""
        keys = _partitions(table, self.target.part) | set(covers)
        if self._keys & keys or sum(t.num_rows for t in self._buffer) >= _FLUSH_ROWS:
            self.flush()
        self._buffer.append(table)
        self._keys |= keys
        self._covers |= set(covers)

    def flush(self) -> None:
        """Replace the queued tables' partitions with their rows."""
        con, target, part = self.con, self.target, self.target.part
        buffer, covers = self._buffer, self._covers
        self._buffer, self._keys, self._covers = [], set(), set()
        if not any(t.num_rows for t in buffer) and not covers:
            return
        table = pa.concat_tables(buffer)
        del buffer
        if self.prepare is not None:
            table = self.prepare(table)
        self.staging.register(
            con, table.append_column("load_id", pa.array(np.full(table.num_rows, self.load_id, dtype="int64")))
        )
        del table
        rows = dict.fromkeys(covers, 0)
        for s, d, p, n in con.execute(f"SELECT source, dataset, {part}, count(*) FROM batch GROUP BY ALL").fetchall():
            rows[(s, d, p)] = int(n)
        if self.held is not None:
            _check_shrink(self.held, {(self.source, d, p): n for (_, d, p), n in rows.items()})
        self.written |= {(d, p) for _, d, p in rows}
        keys = list(rows)
        self._delete(keys)
        con.execute(f"INSERT INTO {target.table} BY NAME SELECT * FROM batch")
        if target.listed:
            con.executemany(
                "INSERT OR REPLACE INTO partitions VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [(self.source, d, p, n, self.load_id) for (_, d, p), n in rows.items()],
            )
        self.staging.release(con)

    def _delete(self, keys: list[tuple]) -> int:
        """Delete the rows of the partitions ``keys`` ((source, dataset, part) as the table names them)
        from the target table; returns how many."""
        con, table, part = self.con, self.target.table, self.target.part
        con.register(
            "replaced",
            pa.table({"source": [k[0] for k in keys], "dataset": [k[1] for k in keys], part: [k[2] for k in keys]}),
        )
        (n,) = con.execute(f"""DELETE FROM {table} USING replaced r
                              WHERE {table}.source = r.source AND {table}.dataset = r.dataset
                                AND {table}.{part} = r.{part}""").fetchall()[0]
        con.unregister("replaced")
        return int(n)

    def drop(self, parts: Iterable[tuple[str, date]]) -> int:
        """Remove the partitions ``parts`` ((dataset, month)) of the load's source whole: their rows and
        their entries in ``partitions`` (no longer loaded: not a known zero). Returns the rows removed."""
        self.flush()
        parts = list(parts)
        rows_source = outcomes_schema.SOURCE if self.target is OUTCOMES else self.source
        removed = self._delete([(rows_source, d, m) for d, m in parts])
        if self.target.listed:
            self.con.executemany(
                "DELETE FROM partitions WHERE source = ? AND dataset = ? AND month = ?",
                [(self.source, d, m) for d, m in parts],
            )
        return removed


@contextlib.contextmanager
def replacing(
    con: duckdb.DuckDBPyConnection,
    store_path: Path,
    target: Target,
    source: str,
    inputs: list[str],
    report: LoadReport,
    replace_smaller: bool = False,
    prepare: Callable[[pa.Table], pa.Table] | None = None,
) -> Iterator[PartitionWriter]:
    """The write primitive: one load of ``source`` (:func:`one_load`) replacing partitions of
    ``target``. Yields its :class:`PartitionWriter`; when the block ends, the queue is flushed,
    the months written and replaced set on ``report`` (by month: ``months``, ``replaced``), the load
    recorded from ``report`` and the transaction committed (on any error, rolled back).
    Later batches are staged beside ``store_path`` (:class:`~geodata.store.connection.Staging`)."""
    staging = Staging(store_path)
    try:
        with one_load(con, source, inputs, report, store_path) as load_id:
            writer = PartitionWriter(con, staging, target, source, load_id, replace_smaller, prepare)
            yield writer
            writer.flush()
            if target.part == "month":  # the months written, and those the store held before
                before = {(d, p) for _, d, p in writer.stored}
                report.months = sorted({p.strftime("%Y-%m") for _, p in writer.written})
                report.replaced = sorted({p.strftime("%Y-%m") for d, p in writer.written if (d, p) in before})
    finally:
        staging.close()


def _with_geography(table: pa.Table, wards, lsoas) -> tuple[pa.Table, int]:
    """Fill ward_code and lsoa_code by point-in-polygon; also return how many located rows fall
    outside every ward."""
    x = table["x"].to_numpy(zero_copy_only=False).astype("float64")
    y = table["y"].to_numpy(zero_copy_only=False).astype("float64")
    ward = assign(wards, x, y)
    table = table.set_column(table.schema.get_field_index("ward_code"), "ward_code", pa.array(ward, pa.string()))
    table = table.set_column(
        table.schema.get_field_index("lsoa_code"), "lsoa_code", pa.array(assign(lsoas, x, y), pa.string())
    )
    return table, int(((ward == None) & ~np.isnan(x)).sum())  # noqa: E711


class Writes(StoreBase):
    """The loads of a store, one method a kind of source, each through :func:`replacing`."""

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
        rows, unless ``replace_smaller``). Geography is assigned to a whole flush at
        once: snap points repeat across months, so each distinct point is tested
        once. ``progress`` is called after each batch. Returns the combined report,
        also written to ``loads`` and ``rejections``.
        """
        report = LoadReport(source)
        with self.connect() as con:
            wards, lsoas = self.areas("ward", con), self.areas("lsoa", con)

            def located(table: pa.Table) -> pa.Table:
                table, outside = _with_geography(table, wards, lsoas)
                report.outside_area += outside
                return table

            with replacing(con, self.path, INCIDENTS, source, inputs, report, replace_smaller, located) as write:
                for table, file_report in batches:
                    write.add(table)
                    report.add(file_report)
                    if progress:
                        progress(report)
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
        covers = [(report.source, dataset, parse_month(m)) for m in months] if dataset is not None else []
        with (
            self.connect() as con,
            replacing(con, self.path, AREA_COUNTS, report.source, inputs, report, replace_smaller) as write,
        ):
            write.add(table, covers)
            report.rows_loaded = table.num_rows
        return report

    def ingest_outcomes(
        self, batches: Iterable[tuple[pa.Table, LoadReport]], inputs: list[str], replace_smaller: bool = False
    ) -> LoadReport:
        """Store police.uk outcome rows (:data:`loaders.outcomes.COLUMNS`) in one transaction: each
        (source, dataset, month) in them replaces what the ``outcomes`` table held for it (recorded in
        ``partitions`` as source :data:`loaders.outcomes.KIND`; refused under :data:`SHRINK_LIMIT`,
        unless ``replace_smaller``). Returns the combined report."""
        report = LoadReport(outcomes_schema.KIND)
        with (
            self.connect() as con,
            replacing(con, self.path, OUTCOMES, report.source, inputs, report, replace_smaller) as write,
        ):
            for table, file_report in batches:
                report.add(file_report)
                write.add(table)
        return report

    def ingest_district_stats(
        self, table: pa.Table, report: LoadReport, inputs: list[str], replace_smaller: bool = False
    ) -> LoadReport:
        """Store district statistics (:data:`loaders.defra.COLUMNS`) in one transaction: the
        (source, dataset, year)s in ``table`` replace what the store held for them (refused under
        :data:`SHRINK_LIMIT`, unless ``replace_smaller``)."""
        with (
            self.connect() as con,
            replacing(con, self.path, DISTRICT_STATS, report.source, inputs, report, replace_smaller) as write,
        ):
            write.add(table)
        return report

    def remove_month(self, source: str, month: str, dataset: str | None = None) -> LoadReport:
        """Remove ``month`` ('YYYY-MM') of ``source`` (a partition source as :meth:`partitions` lists
        it: a source id, or :data:`loaders.outcomes.KIND`) for ``dataset`` (default: every dataset)
        through the write primitive (:meth:`PartitionWriter.drop`), in one transaction recorded in the
        load history. ``StoreError`` when the store holds no such month. Returns the report
        (``rows_read``: rows removed)."""
        if source == outcomes_schema.KIND:
            target = OUTCOMES
        elif source in AREA_SOURCES:
            target = AREA_COUNTS
        elif source in sources.SOURCES and sources.get(source).kind == sources.POINTS:
            target = INCIDENTS
        else:
            raise StoreError(f"source: {source!r} has no months to remove (sources with months: see `months list`)")
        day = parse_month(month, "month")
        with self.connect() as con:
            held = con.execute(
                "SELECT dataset FROM partitions WHERE source = ? AND month = ? AND (? IS NULL OR dataset = ?)"
                " ORDER BY dataset",
                [source, day, dataset, dataset],
            ).fetchall()
            if not held:
                where = f" for {dataset}" if dataset else ""
                raise StoreError(f"{source} has no month {month} loaded{where}: nothing was removed")
            datasets = [d for (d,) in held]
            report = LoadReport(source, files=[f"removed {month} of {source} ({', '.join(datasets)})"])
            with replacing(con, self.path, target, source, report.files, report) as write:
                report.rows_read = write.drop([(d, day) for d in datasets])
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
        with self.connect() as con, one_load(con, source, [load], report, self.path):
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
