"""Shared fixtures: the bundled St Albans config, stores in temporary folders, the shared county data."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from geodata import config as config_mod
from geodata.store import open_store
from geodata.bundled import ST_ALBANS as BUNDLE

REPO = Path(__file__).resolve().parent.parent
BUNDLED_POLICE = BUNDLE / "police" / "hertfordshire-st-albans-street.zip"
BUNDLED_OUTCOMES = BUNDLE / "police" / "hertfordshire-st-albans-outcomes.zip"
#: Rows and months of the bundled street zip, as its SOURCE note states (tests/test_bundle.py checks
#: the store against the note itself).
BUNDLED_ROWS, BUNDLED_MONTHS = 26_483, 29
#: The shared data folder beside the checkout (CI lays a copy there).
SHARED_POLICE = REPO.parent / "shared" / "data" / "police"


def config_with_store(tmp_path: Path, path: Path | None = None, bundled: bool = True):
    """The bundled config (or ``path``) with its store moved into ``tmp_path``."""
    cfg = config_mod.load(path)
    return dataclasses.replace(cfg, store_path=tmp_path / "store.duckdb",
                               bundled_police=cfg.bundled_police if bundled else (),
                               bundled_fixmystreet=cfg.bundled_fixmystreet if bundled else (),
                               bundled_defra=cfg.bundled_defra if bundled else (),
                               bundled_outcomes=cfg.bundled_outcomes if bundled else ())


def write_config(tmp_path: Path) -> Path:
    """Write a copy of the bundled config file whose store lives in ``tmp_path``."""
    base = BUNDLE
    text = (base / "csp.toml").read_text()
    text = text.replace('path = "store/st-albans-wards-2022.duckdb"', f'path = "{tmp_path / "s.duckdb"}"')
    assert str(tmp_path) in text
    for rel in ("boundaries/", "boundaries_2022/", "population/", "police/", "fixmystreet/", "defra/",
                "priorities.toml"):
        text = text.replace(f'"{rel}', f'"{base}/{rel}')
    path = tmp_path / "csp.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def bundled_store(tmp_path_factory):
    """A store built from the bundled data, as a first run builds it."""
    return open_store(config_with_store(tmp_path_factory.mktemp("bundled")))


@pytest.fixture
def empty_store(tmp_path):
    """A store for the bundled area with no incidents loaded."""
    return open_store(config_with_store(tmp_path, bundled=False))


@pytest.fixture(scope="session")
def county_police() -> Path:
    """The 13 months of Hertfordshire street-level files in ../shared/data/police."""
    if not SHARED_POLICE.is_dir():
        pytest.fail(f"{SHARED_POLICE} is missing: the county tests need the shared data beside the checkout")
    return SHARED_POLICE


def open_page(at, page: str):
    """Switch AppTest ``at`` to the page at ``page`` (its url path, e.g. "explorer", or
    "views/explorer.py"): pages are callables (``st.Page(explorer.page)``), which
    ``AppTest.switch_page`` (file pages only) cannot find. Raises ``ValueError`` ("Could not find a
    navigation page") when the page is not registered for the session's audience. Returns ``at``."""
    name = page.removeprefix("views/").removesuffix(".py")
    if not at._registered_pages:  # pages are registered by a first run (of the default page)
        at.run()
    hashes = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == name]
    if not hashes:
        raise ValueError(f"Could not find a navigation page for {name!r}")
    at._page_hash = hashes[0]
    return at
