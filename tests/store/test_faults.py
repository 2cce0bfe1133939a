"""The store under faults and load: an ingest killed with SIGKILL, two ingests at once, reads while
an ingest writes. Real processes on the real county data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from geodata import config as config_mod
from geodata.pipeline.build import open_store
from tests.conftest import REPO, write_config

pytestmark = pytest.mark.slow  # several ingest processes on the county files


def _ingest(cfg, paths, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "--config", str(cfg), "ingest", "police", *map(str, paths)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _state(store):
    return (
        store.counts(by=("source", "month", "category")).to_dict("list"),
        store.partitions()[["source", "dataset", "month", "rows"]].to_dict("list"),
        len(store.loads()),
    )


def _wait_for(proc: subprocess.Popen, progress: str) -> str:
    """Read the ingest's progress bar until it shows ``progress``; return what it printed."""
    deadline, seen = time.time() + 60, ""
    while time.time() < deadline and progress not in seen:
        seen += os.read(proc.stderr.fileno(), 4096).decode()
    assert progress in seen, seen
    return seen


def test_ingest_killed_half_way_leaves_the_previous_state(tmp_path, county_police):
    cfg = write_config(tmp_path)
    store = open_store(config_mod.load(cfg))  # the bundled St Albans data
    before = _state(store)
    proc = _ingest(cfg, [county_police])
    progress = _wait_for(proc, "3/13 files")  # it has parsed files and is writing
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and "13/13 files" not in progress
    assert _state(open_store(config_mod.load(cfg))) == before  # nothing half-written, the store opens
    done = _ingest(cfg, [county_police])
    assert done.wait(timeout=300) == 0, done.stderr.read()
    assert len(open_store(config_mod.load(cfg)).loads()) == before[2] + 1


def test_two_ingests_at_once_one_waits_neither_corrupts(tmp_path, county_police):
    cfg = write_config(tmp_path)
    open_store(config_mod.load(cfg))
    a, b = _ingest(cfg, [county_police]), _ingest(cfg, [county_police])
    assert a.wait(timeout=300) == 0 and b.wait(timeout=300) == 0, (a.stderr.read(), b.stderr.read())
    store = open_store(config_mod.load(cfg))
    # the county months replace the bundle's (every row of the force's files, in the district or not)
    county = store.counts(by=("dataset",), start="2021-01", end="2022-01", inside=False)
    assert county.set_index("dataset")["incidents"]["hertfordshire"] == 108_465  # once, not twice
    # with no patience, the second one fails with one clear line and leaves the store as it was
    before = _state(store)
    a = _ingest(cfg, [county_police])
    _wait_for(a, "1/13 files")  # a is inside its write transaction, holding the store
    os.kill(a.pid, signal.SIGSTOP)  # ... and keeps holding it while b tries (no race on timing)
    try:
        b = _ingest(cfg, [county_police], env={"CSP_HOTSPOTS_LOCK_WAIT": "0"})
        assert b.wait(timeout=120) == 2
    finally:
        os.kill(a.pid, signal.SIGCONT)
    assert a.wait(timeout=300) == 0
    err = b.stderr.read()
    assert "busy: another process (an ingest?) is writing to the store" in err and "Traceback" not in err
    after = _state(open_store(config_mod.load(cfg)))
    assert after[0] == before[0] and after[2] == before[2] + 1


def test_reads_while_an_ingest_writes_wait_instead_of_failing(tmp_path, county_police):
    cfg = write_config(tmp_path)
    store = open_store(config_mod.load(cfg))
    before = int(store.counts(by=("source",))["incidents"].sum())
    seen, errors = [], []

    def read_loop(stop):
        while not stop.is_set():
            try:
                seen.append(int(store.counts(by=("source",))["incidents"].sum()))
            except Exception as exc:  # noqa: BLE001 - any error shown to a viewer fails the test
                errors.append(exc)
            time.sleep(0.02)

    stop = threading.Event()
    reader = threading.Thread(target=read_loop, args=(stop,))
    proc = _ingest(cfg, [county_police])
    reader.start()
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    time.sleep(0.3)
    stop.set()
    reader.join()
    after = int(store.counts(by=("source",))["incidents"].sum())
    assert errors == []
    assert set(seen) <= {before, after} and after in seen and len(seen) > 5  # never a half-written state
