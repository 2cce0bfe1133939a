"""Shared fixtures: the bundled St Albans config, stores in temporary folders, the county data shipped in
tests/data/county; the hypothesis profile (``HYPOTHESIS_PROFILE``: ``dev`` fast, ``ci`` thorough)."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import socket
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from geodata import config as config_mod
from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.bundled import copy_config
from geodata.pipeline.build import open_store

REPO = Path(__file__).resolve().parent.parent
BUNDLED_POLICE = BUNDLE / "police" / "hertfordshire-st-albans-street.zip"
BUNDLED_OUTCOMES = BUNDLE / "police" / "hertfordshire-st-albans-outcomes.zip"


def _zip_rows(path: Path) -> tuple[int, int]:
    """(data rows, CSV files) of a police.uk zip, read with the csv module (not the loader under test)."""
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.endswith(".csv")]
        rows = sum(sum(1 for _ in csv.reader(io.TextIOWrapper(z.open(n), "utf-8", newline=""))) - 1 for n in names)
    return rows, len(names)


#: Rows and months of the bundled street zip, counted from the zip itself (26,533 rows, 29 months;
#: tests/store/test_bundle.py checks the store against its SOURCE note too).
BUNDLED_ROWS, BUNDLED_MONTHS = _zip_rows(BUNDLED_POLICE)
#: The 13 months of Hertfordshire street-level files (2021-01 .. 2022-01, 108,465 rows, 24 MB of CSV) as
#: data.police.uk lays them out (one folder per month), in one xz-compressed tar (3.4 MB); SOURCE.md inside.
COUNTY_POLICE = REPO / "tests" / "data" / "county" / "hertfordshire-street-2021-01-2022-01.tar.xz"

# Property tests: `dev` (the default) tries 100 examples a property, `ci` (.ci/run sets HYPOTHESIS_PROFILE=ci)
# 2,000; neither has a deadline (two shared cores make timings noisy).
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile("ci", max_examples=2000, deadline=None, suppress_health_check=_SLOW_OK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def rows_in_wards(store) -> int:
    """Bundled rows in a ward of ``store``'s area: every row read less those its police.uk load found
    outside the wards (10 for the 2022 wards: rows kept for a St Albans LSOA or a 2013 ward)."""
    load = store.loads().query("source == 'police.uk'").iloc[-1]
    return BUNDLED_ROWS - int(load["outside_area"])


def config_with_store(tmp_path: Path, path: Path | None = None, bundled: bool = True):
    """The bundled config (or ``path``) with its store moved into ``tmp_path``."""
    cfg = config_mod.load(path)
    return dataclasses.replace(
        cfg,
        store_path=tmp_path / "store.duckdb",
        bundled_police=cfg.bundled_police if bundled else (),
        bundled_fixmystreet=cfg.bundled_fixmystreet if bundled else (),
        bundled_defra=cfg.bundled_defra if bundled else (),
        bundled_outcomes=cfg.bundled_outcomes if bundled else (),
    )


def write_config(tmp_path: Path) -> Path:
    """Write a copy of the bundled config file whose store lives in ``tmp_path``."""
    return copy_config(tmp_path, tmp_path / "s.duckdb")


@pytest.fixture(scope="session")
def bundled_store(tmp_path_factory):
    """A store built from the bundled data, as a first run builds it."""
    return open_store(config_with_store(tmp_path_factory.mktemp("bundled")))


@pytest.fixture(scope="session")
def bundled_store_2013(tmp_path_factory):
    """The bundled data on the 2013-2022 wards (csp-wards-2013.toml): the wards of the 2021-22
    months the issues' cases were measured on (e.g. St Peters E05004799)."""
    return open_store(config_with_store(tmp_path_factory.mktemp("bundled2013"), BUNDLE / "csp-wards-2013.toml"))


@pytest.fixture
def empty_store(tmp_path):
    """A store for the bundled area with no incidents loaded."""
    return open_store(config_with_store(tmp_path, bundled=False))


@pytest.fixture(scope="session")
def county_police(tmp_path_factory) -> Path:
    """The folder of the 13 months of Hertfordshire street-level files (:data:`COUNTY_POLICE` unpacked)."""
    folder = tmp_path_factory.mktemp("county")
    with tarfile.open(COUNTY_POLICE, "r:xz") as tar:
        tar.extractall(folder, filter="data")
    return folder


#: What starts a server in a test (the dashboard, or the local data.police.uk API): a call in the test's
#: own code, or a fixture that does it.
SERVER_CALLS = re.compile(r"\b(start_server|serve|FakePoliceApi)\(")
SERVER_FIXTURES = ("server", "audited_server", "api", "installed", "site")


def _starts_a_server(item) -> bool:
    import inspect

    if any(f in getattr(item, "fixturenames", ()) for f in SERVER_FIXTURES):
        return True
    function = getattr(item, "function", None)
    return function is not None and SERVER_CALLS.search(inspect.getsource(function)) is not None


def pytest_collection_modifyitems(items):
    """A test that reads the county files is marked ``county`` (the fast tier leaves it out). The fast tier
    (``-m "not browser and not slow and not county"``) starts no server: a test that starts one and is
    marked neither ``slow`` nor ``browser`` stops the collection, naming it."""
    for item in items:
        if "county_police" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.county)
    fast_servers = [
        item.nodeid
        for item in items
        if _starts_a_server(item) and not any(item.get_closest_marker(m) for m in ("slow", "browser"))
    ]
    if fast_servers:
        raise pytest.UsageError(
            "these tests start a server but are not marked slow (the fast tier starts none): " + ", ".join(fast_servers)
        )


#: The password of the partner accounts the app tests make and sign in with (:func:`app_as`).
PASSWORD = "correct horse battery"


def app_as(monkeypatch, cfg, user: str | None = None, page: str | None = None, **query):
    """The app (Streamlit's AppTest) on config ``cfg`` as ``user`` sees it, signed in with :data:`PASSWORD`
    (None: the public), the URL parameters ``query`` set before its first run, on ``page`` when given."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    if user:
        at.text_input(key="sign_in_name").input(user)
        at.text_input(key="sign_in_password").input(PASSWORD)
        next(b for b in at.button if b.label == "Sign in").click().run()
        assert not at.exception, at.exception
        assert any(f"Signed in as {user}" in c.value for c in at.sidebar.caption)
    if page:
        open_page(at, page).run()
        assert not at.exception, at.exception
    return at


def open_page(at, page: str, drawn: bool = True):
    """Switch AppTest ``at`` to the page at ``page`` (its url path, e.g. "explorer", or
    "views/explorer.py"): pages are callables (``st.Page(explorer.page)``), which
    ``AppTest.switch_page`` (file pages only) cannot find. Raises ``ValueError`` ("Could not find a
    navigation page") when the page is not registered for the session's audience. Returns ``at``.
    ``drawn`` (default true): the explorer's first map counts as drawn, so a run shows the whole page (a session's
    first view otherwise ends with the wards' map, and waits for a browser to report it drawn: none here)."""
    from dashboard.render import mapview

    name = page.removeprefix("views/").removesuffix(".py")
    if name == "explorer" and drawn:
        at.session_state[mapview.SEEN.format("explorer_map")] = True
    if not at._registered_pages:  # pages are registered by a first run (of the default page)
        at.run()
    hashes = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == name]
    if not hashes:
        raise ValueError(f"Could not find a navigation page for {name!r}")
    at._page_hash = hashes[0]
    return at


def free_port() -> int:
    """A TCP port free on this machine's loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command: list[str], port: int, cwd, env=None, timeout: float = 120) -> subprocess.Popen:
    """Start a server process (``command``, listening on ``port``), its stdout and stderr as one text
    pipe, and wait until the port answers; the test fails with the process's last output if it exits
    or does not answer in ``timeout`` seconds. The caller terminates it."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"{command[0]} did not start: {proc.communicate()[0][-3000:]}")
