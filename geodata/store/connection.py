"""Connections to a store file: waiting for another process's lock, the file-length check, and the
private staging folders an ingest writes its later batches to."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from loaders.errors import InputError


class StoreError(InputError):
    """A store that cannot be used as asked; ``str()`` is one line for the user."""


#: Seconds to wait for another process (an ingest) to release the store file before giving up;
#: environment variable CSP_HOTSPOTS_LOCK_WAIT overrides it.
LOCK_WAIT_S = 120.0

#: Rows per row group when the store is written by its only user (``exclusive``): DuckDB writes a
#: full row group to the file (compressed, on its worker threads) while the insert runs, so a
#: county's 108,465 rows (under one default 122,880-row group) no longer wait for the commit to be
#: compressed on one thread (commit 0.16 s -> 0.01 s; file 8.7 -> 9.7 MB).
EXCLUSIVE_ROW_GROUP = 32_768

#: A DuckDB database file's three headers (the main header and two database headers, 4 KiB each).
_DUCKDB_HEADER_BYTES = 3 * 4096


def connect(path: Path, row_group_size: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to ``path``, waiting while another process holds the file.

    With ``row_group_size``, the file is attached (as ``store``, the connection's default
    database) with that row group size instead of DuckDB's default 122,880 rows. Insertion order
    is not preserved (every query orders its result), which makes bulk inserts ~20% faster.

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


def check_length(con: duckdb.DuckDBPyConnection, path: Path) -> None:
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
    body = path.stat().st_size - _DUCKDB_HEADER_BYTES
    if body < (blocks - free) * block_size or body % block_size:
        raise StoreError(
            f"{path}: the store file is cut short ({body + _DUCKDB_HEADER_BYTES:,} bytes, for "
            f"{blocks - free:,} blocks of {block_size:,} in use: a copy or a disk that did not finish?); "
            "restore it from a backup, or delete it: it is rebuilt from the config, and your own "
            "loads must then be loaded again"
        )


def remove_store_file(path: Path) -> None:
    """Remove a half-made store file, its write-ahead log (``<file>.wal``) and load generation."""
    path.unlink(missing_ok=True)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    generation_file(path).unlink(missing_ok=True)


def generation_file(path: Path) -> Path:
    """The file beside the store holding its load generation (``<file>.generation``)."""
    return Path(str(path) + ".generation")


def generation(path: Path) -> int:
    """The store's load generation: how many loads have been committed to it since it was made (0
    before the first, or when the file is unreadable): one small file read, so a server can ask at
    every page run whether the store changed, from this process or another."""
    try:
        return int(generation_file(path).read_text() or 0)
    except (OSError, ValueError):
        return 0


def bump_generation(path: Path) -> int:
    """Add one to the store's load generation (after a load commits); returns the new one. Written
    to a temporary file and renamed over the old, so a reader never sees half a number."""
    new = generation(path) + 1
    tmp = generation_file(path).with_name(f".{generation_file(path).name}.{os.getpid()}")
    tmp.write_text(str(new))
    os.replace(tmp, generation_file(path))
    return new


class Staging:
    """Hands batches to DuckDB within one transaction without pinning their memory.

    DuckDB keeps a registered Arrow table alive until the transaction commits
    (measured: +270 MB per million rows, 5 GB at 10M rows). The first batch,
    usually the only one, goes straight from Arrow (as the view ``batch``); later
    ones are written to a Parquet file beside the store and read back, so DuckDB
    owns their memory.

    The copies are the store's rows in plain form: their folder,
    ``.<store file name>.ingest-<pid>-<random>``, is readable by its owner only
    (0700) and each file is created 0600. A killed ingest cannot remove its
    folder; the next open of the store removes every such folder whose process
    has ended (:func:`remove_stale_staging`).
    """

    def __init__(self, store_path: Path):
        self.store_path, self.used = Path(store_path), 0
        self.tmp: Path | None = None

    def register(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        """Make ``table`` the view ``batch`` of ``con``."""
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

    def release(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the view ``batch`` when it is the first batch's registered table (a later batch's
        view is replaced by the next one, and its file removed by :meth:`close`)."""
        if self.used == 1:
            con.unregister("batch")

    def close(self) -> None:
        if self.tmp is not None:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)


def remove_stale_staging(store_path: Path) -> list[Path]:
    """Remove the staging folders (:class:`Staging`) beside ``store_path`` left by ingests whose
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
