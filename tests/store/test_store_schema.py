"""The store's schema version and migrations (geodata/store/schema.py), and the store package
importing nothing that loads it (geodata.pipeline.build, geodata.pipeline.ingest)."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from geodata.pipeline.build import open_store
from geodata.pipeline.ingest import ingest_police
from geodata.store import SCHEMA_VERSION, Store, StoreError, schema
from loaders import schema as canonical
from tests.conftest import BUNDLED_POLICE, BUNDLED_ROWS, REPO, config_with_store

#: The canonical columns added after the first stores were built (commit bf7758a).
_LATER_COLUMNS = {"size_band", "land_type", "cost_gbp", "flags", "sensitive", "synthetic"}

#: The first stores' tables, as the code before schema versions created them (no version row, no
#: area counts, LSOA -> ward lookup, district statistics or outcomes).
_VERSION_1_DDL = f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE areas (level VARCHAR, code VARCHAR, name VARCHAR, geometry BLOB, PRIMARY KEY (level, code));
CREATE TABLE population (lsoa_code VARCHAR PRIMARY KEY, population BIGINT);
CREATE TABLE incidents ({", ".join(f'"{c.name}" {c.sql}' for c in canonical.COLUMNS if c.name not in _LATER_COLUMNS)},
                        load_id BIGINT);
CREATE TABLE partitions (source VARCHAR, dataset VARCHAR, month DATE, rows BIGINT, load_id BIGINT,
                         loaded_at TIMESTAMP, PRIMARY KEY (source, dataset, month));
CREATE TABLE loads (load_id BIGINT PRIMARY KEY, source VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
                    inputs VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT,
                    no_location BIGINT, outside_area BIGINT);
CREATE TABLE rejections (load_id BIGINT, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR);
"""


def _layout(path) -> set[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return set(con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns").fetchall())


def _version(path) -> str | None:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return rows[0][0] if rows else None


def test_a_new_store_records_the_schema_version(empty_store):
    assert _version(empty_store.path) == str(SCHEMA_VERSION)
    assert len(schema.MIGRATIONS) == SCHEMA_VERSION - 1  # one migration a version, from version 1


def test_a_store_made_before_versions_is_migrated_on_open(tmp_path, empty_store):
    # a version-1 store: the old tables, filled with the area and one police.uk load by the old columns
    old_cols = ", ".join(f'"{c.name}"' for c in canonical.COLUMNS if c.name not in _LATER_COLUMNS) + ", load_id"
    ingest_police(empty_store, [BUNDLED_POLICE])
    old = tmp_path / "old"
    old.mkdir()
    with duckdb.connect(str(old / "store.duckdb")) as con:
        con.execute(_VERSION_1_DDL)
        con.execute("ATTACH ? AS new (READ_ONLY)", [str(empty_store.path)])
        for table in ("areas", "population", "partitions", "loads", "rejections"):
            con.execute(f"INSERT INTO {table} SELECT * FROM new.{table}")
        con.execute("INSERT INTO meta SELECT * FROM new.meta WHERE key != 'schema_version'")
        con.execute(f"INSERT INTO incidents SELECT {old_cols} FROM new.incidents")
    assert _version(old / "store.duckdb") is None

    store = open_store(config_with_store(old, bundled=False))
    assert _version(store.path) == str(SCHEMA_VERSION)
    assert _layout(store.path) == _layout(empty_store.path)  # every table and column of a new store
    assert store.counts(inside=False).equals(empty_store.counts(inside=False))
    assert store.partitions().equals(empty_store.partitions())
    assert int(store.counts(by=("source",), inside=False)["incidents"].sum()) == BUNDLED_ROWS
    assert store.population().equals(empty_store.population())  # through the lookup the migration filled
    assert store.synthetic_count() == 0  # a column the migration added, null for the old rows
    ingest_police(store, [BUNDLED_POLICE])  # and it loads as a new store does
    assert store.counts(inside=False).equals(empty_store.counts(inside=False))


def test_a_store_of_a_newer_version_is_refused_in_one_line(tmp_path):
    cfg = config_with_store(tmp_path, bundled=False)
    open_store(cfg)
    with duckdb.connect(str(cfg.store_path)) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    with pytest.raises(StoreError) as err:
        open_store(cfg)
    message = str(err.value)
    assert "\n" not in message and str(cfg.store_path) in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message and f"(version {SCHEMA_VERSION})" in message
    assert _version(cfg.store_path) == str(SCHEMA_VERSION + 1)  # left as it was


def test_a_store_whose_version_is_not_a_number_is_refused_in_one_line(tmp_path):
    cfg = config_with_store(tmp_path, bundled=False)
    open_store(cfg)
    with duckdb.connect(str(cfg.store_path)) as con:
        con.execute("UPDATE meta SET value = '2x' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"schema version '2x' is not a number") as err:
        open_store(cfg)
    assert "\n" not in str(err.value) and str(cfg.store_path) in str(err.value)


def test_the_store_imports_nothing_that_loads_or_builds_it():
    code = "import sys, geodata.store; print(sorted(m for m in sys.modules if m.startswith('geodata.pipeline')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_creating_a_store_over_an_existing_file_is_refused_and_leaves_it(empty_store):
    before = empty_store.path.read_bytes()
    with pytest.raises(StoreError, match="a store is there already"):
        Store.create(empty_store.config)
    assert empty_store.path.read_bytes() == before


def test_a_version_2_store_gets_the_action_history_on_open(tmp_path):
    # a version-2 store: this schema less the action history (added by version 3), with one load
    cfg = config_with_store(tmp_path, bundled=False)
    store = open_store(cfg)
    ingest_police(store, [BUNDLED_POLICE])
    counts = store.counts()
    with duckdb.connect(str(cfg.store_path)) as con:
        con.execute("DROP TABLE action_history")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    assert _version(cfg.store_path) == "2"
    store = open_store(cfg)
    assert _version(store.path) == str(SCHEMA_VERSION) == "3"
    assert store.counts().equals(counts) and store.action_history() == []
    event = store.change_action(None, {"what": "Evening patrols"}, "ana")
    assert event is not None and [e.action_id for e in store.action_history()] == ["A0001"]
