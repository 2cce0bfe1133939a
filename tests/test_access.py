"""Audiences and roles (AppTest), disclosure control of council counts, and the accounts file."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from dashboard import accounts
from dashboard.cli import main
from geodata import config as config_mod
from geodata import disclosure
from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.ingest import ingest_council
from geodata.store import open_store
from tests.conftest import REPO, open_page, write_config

APP = str(REPO / "dashboard" / "app.py")
PASSWORD = "correct horse battery"
MAP_I = BUNDLE / "council/mapping-incidents.toml"


# ------------------------------------------------------------------ disclosure rule
def _feasible(shown: list[str], total: str | None) -> list[set[int]]:
    """For each cell, every value it could take given what is shown and the published rule: a "<5"
    cell is 1-4, a "c" cell 5 or more; with a numeric total the cells sum to it. Intervals of whole
    numbers add up to every whole number between their bounds, so x is feasible for a cell when the
    total minus x lies between the other cells' smallest and largest sums."""
    bounds = [
        (1, 4)
        if v == disclosure.PRIMARY
        else (5, 10**9)
        if v == disclosure.SECONDARY
        else (int(v.replace(",", "")),) * 2
        for v in shown
    ]
    numeric = total not in (None, disclosure.PRIMARY, disclosure.SECONDARY)
    out = []
    for i, (lo, hi) in enumerate(bounds):
        if not numeric:
            out.append(set(range(lo, min(hi, lo + 10) + 1)))
            continue
        rest_lo = sum(b[0] for j, b in enumerate(bounds) if j != i)
        rest_hi = sum(b[1] for j, b in enumerate(bounds) if j != i)
        t = int(total.replace(",", ""))
        out.append({x for x in range(lo, min(hi, t) + 1) if rest_lo <= t - x <= rest_hi})
    return out


@given(hs.lists(hs.integers(0, 12), min_size=1, max_size=8))
def test_no_small_count_is_shown_or_recoverable_from_the_total(counts):
    shown, total = disclosure.suppress(pd.Series(counts))
    shown = shown.tolist()
    for v, raw in zip(shown, counts):
        assert v in (disclosure.PRIMARY, disclosure.SECONDARY) or int(v) == raw and not 1 <= raw <= 4
    assert total in (disclosure.PRIMARY, disclosure.SECONDARY) or not 1 <= int(total.replace(",", "")) <= 4
    for v, feasible in zip(shown, _feasible(shown, total)):
        if v == disclosure.PRIMARY:
            assert len(feasible) >= 2, (counts, shown, total)


def test_secondary_suppression_examples():
    shown, total = disclosure.suppress(pd.Series([3, 10, 20]))
    assert shown.tolist() == ["<5", "c", "20"] and total == "33"
    shown, total = disclosure.suppress(pd.Series([1, 5, 30]))  # 5 alone would pin the 1 down: take the 30 too
    assert shown.tolist() == ["<5", "c", "c"] and total == "36"
    shown, total = disclosure.suppress(pd.Series([2, 0, 0]))  # nothing to hide it behind: the total goes
    assert shown.tolist() == ["<5", "0", "0"] and total == "c"
    shown, total = disclosure.suppress(pd.Series([7, np.nan, 0]))
    assert shown.tolist() == ["7", None, "0"] and total == "7"


# ------------------------------------------------------------------ accounts
def test_accounts_store_hashes_only_and_limit_failures(tmp_path, caplog):
    path = tmp_path / "accounts.json"
    accounts.add(path, "ana", "analyst", PASSWORD)
    text = path.read_text()
    assert PASSWORD not in text and "$argon2id$" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    now = [0.0]
    signin = accounts.SignIn(path, clock=lambda: now[0])
    assert signin.check("ana", PASSWORD) == "analyst"
    with caplog.at_level(logging.WARNING, logger="csp_hotspots.access"):
        for _ in range(accounts.MAX_FAILURES):
            with pytest.raises(accounts.AccountsError, match="wrong user name or password"):
                signin.check("ana", "guess-guess-guess")
        with pytest.raises(accounts.AccountsError, match="too many failed sign-ins"):
            signin.check("ana", PASSWORD)  # locked even with the right password
    assert "guess" not in caplog.text and PASSWORD not in caplog.text and "'ana'" in caplog.text
    now[0] += accounts.WINDOW_S + 1
    assert signin.check("ana", PASSWORD) == "analyst"
    with pytest.raises(accounts.AccountsError, match="wrong user name or password"):
        signin.check("nobody", PASSWORD)


# ------------------------------------------------------------------ the app per role
@pytest.fixture(scope="module")
def partner_site(tmp_path_factory):
    """A config with accounts (viewer, analyst, admin) and a small synthetic council incident log."""
    folder = tmp_path_factory.mktemp("access")
    cfg = write_config(folder)
    cfg.write_text(cfg.read_text().replace("[store]", f'[access]\naccounts = "{folder / "accounts.json"}"\n\n[store]'))
    for name, role in (("vera", "viewer"), ("ana", "analyst"), ("adam", "admin")):
        accounts.add(folder / "accounts.json", name, role, PASSWORD)
    store = open_store(config_mod.load(cfg))
    rows = ["Case ID,Opened,Type,X,Y,Road,Mental health concern,Youth involved,Sensitive,Status,Data"]
    wards = store.areas("ward")
    rng = np.random.default_rng(5)
    n = 0
    months = [(2021, m) for m in range(1, 13)] + [(2022, 1)]
    for w, (_code, geom) in enumerate(zip(wards.codes, wards.geometries)):
        pt = geom.representative_point()
        for k, (year, month) in enumerate(months):
            for _ in range([0, 0, 1, 0, 2, 0, 1, 3][(w * 3 + k) % 8] * (1 + 4 * (w % 5 == 0))):  # mostly 1-4 a ward
                n += 1
                rows.append(
                    f"C{n},{int(rng.integers(1, 28)):02d}/{month:02d}/{year} 10:00,Welfare concern,"
                    f"{pt.x:.0f},{pt.y:.0f},Road {n},Y,N,Y,Open,SYNTHETIC"
                )
    (folder / "log.csv").write_text("\n".join(rows) + "\n")
    report = ingest_council(store, folder / "log.csv", MAP_I)
    assert report.rows_loaded == n and not report.rejected
    return cfg, store


def _app(monkeypatch, cfg, user: str | None = None, page: str | None = None) -> AppTest:
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    at = AppTest.from_file(APP, default_timeout=120)
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


def _titles(at) -> list[str]:
    return [t.value for t in at.title]


def test_public_and_viewer_see_no_download_no_records_no_admin(partner_site, monkeypatch):
    cfg, _ = partner_site
    for user in (None, "vera"):
        at = _app(monkeypatch, cfg, user)
        assert not any(b.label.startswith("Prepare the meeting pack") for b in at.button)
        open_page(at, "views/explorer.py").run()
        assert not at.exception
        assert at.get("download_button") == [] and any("for signed-in analysts" in c.value for c in at.caption)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            open_page(at, "views/patrol.py")  # not registered for this audience: its script cannot run
        open_page(at, "views/data.py").run()
        assert not any(b.key == "refresh_go" for b in at.button)
        assert any("for signed-in analysts" in c.value for c in at.caption)


def test_analyst_gets_downloads_and_patrol_admin_gets_refresh(partner_site, monkeypatch):
    cfg, _ = partner_site
    at = _app(monkeypatch, cfg, "ana", "views/explorer.py")
    assert len(at.get("download_button")) == 3
    open_page(at, "views/patrol.py").run()
    assert "Patrol planner" in _titles(at)
    open_page(at, "views/data.py").run()
    assert not any(b.key == "refresh_go" for b in at.button)
    at = _app(monkeypatch, cfg, "adam", "views/data.py")
    assert any(b.key == "refresh_go" for b in at.button)


def test_wrong_password_is_refused(partner_site, monkeypatch):
    cfg, _ = partner_site
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="sign_in_name").input("ana")
    at.text_input(key="sign_in_password").input("not the password")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert any("wrong user name or password" in e.value for e in at.error)
    open_page(at, "views/explorer.py").run()
    assert at.get("download_button") == []


_NUMBER = re.compile(r"(?<![\w.-])(\d[\d,]*)(?![\w.%])")


def _small_numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in _NUMBER.findall(text) if 1 <= int(n.replace(",", "")) <= 4]


def test_public_council_figures_are_never_1_to_4(partner_site, monkeypatch):
    cfg, store = partner_site
    direct = store.ward_summary(source="council-incidents", start="2021-08", end="2022-01")  # P4's window
    assert direct["incidents"].between(1, 4).sum() >= 5  # the source really has small ward counts
    at = _app(monkeypatch, cfg)  # public
    p4 = next(e for e in at.markdown if "csp-priority" in e.value and "P4" in e.value)
    assert p4 is not None
    metric = next(m for m in at.metric if "flagged mental health" in m.label)
    assert not _small_numbers(metric.value)
    svg = next(e.value for e in at.markdown if "ward-svg" in e.value and "(suppressed)" in e.value)
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    values = [t.rsplit(": ", 1)[1] for t in titles]
    assert all(v in ("&lt;5 (suppressed)", "c (suppressed)") or not 1 <= int(v.replace(",", "")) <= 4 for v in values)
    shown = [v.replace(" (suppressed)", "").replace("&lt;", "<") for v in values]
    for v, feasible in zip(shown, _feasible(shown, metric.value)):
        if v == "<5":
            assert len(feasible) >= 2
    sentence = next(e.value for e in at.markdown if "flagged mental health" in e.value and "disclosure" in e.value)
    assert not _small_numbers(sentence.split("(disclosure control)")[0].replace("1-4", ""))

    open_page(at, "views/data.py").run()
    cov = at.dataframe[0].value
    council = cov.loc[[i for i in cov.index if i[0] == "council-incidents"]]
    assert not any(isinstance(v, str) and v.isdigit() and 1 <= int(v) <= 4 for v in council.to_numpy().ravel())

    at = _app(monkeypatch, cfg, "ana")  # analysts see exact counts
    metric = next(m for m in at.metric if "flagged mental health" in m.label)
    assert int(metric.value.replace(",", "")) == int(
        store.incidents(source="council-incidents", start="2021-08", end="2022-01")["ward_code"].notna().sum()
    )


def test_users_command(tmp_path, capsys, monkeypatch):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[store]", f'[access]\naccounts = "{tmp_path / "a.json"}"\n\n[store]'))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    assert main(["--config", str(cfg), "users", "add", "ana", "--role", "analyst", "--password-stdin"]) == 0
    assert main(["--config", str(cfg), "users", "list"]) == 0
    assert "ana\tanalyst\tpassword" in capsys.readouterr().out
    assert PASSWORD not in (tmp_path / "a.json").read_text()
    assert json.loads((tmp_path / "a.json").read_text())["users"]["ana"]["role"] == "analyst"
    assert main(["--config", str(cfg), "users", "remove", "bob"]) == 2
    assert "no user 'bob'" in capsys.readouterr().err
