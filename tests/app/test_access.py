"""Audiences and roles (AppTest), disclosure control of council counts, and the accounts file."""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import accounts
from dashboard.cli import main
from geodata import config as config_mod
from geodata import priorities as priorities_mod
from geodata.analysis import ANALYST, PUBLIC
from geodata.analysis import status as status_mod
from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.methods import disclosure
from geodata.pipeline import synthetic
from geodata.pipeline.build import open_store
from geodata.pipeline.ingest import ingest_council
from tests.conftest import PASSWORD, REPO, app_as, open_page, write_config

APP = str(REPO / "dashboard" / "app.py")
MAP_I = BUNDLE / "council/mapping-incidents.toml"
MAP_A = BUNDLE / "council/mapping-council-a.toml"


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


class _CountingHasher:
    """argon2's PasswordHasher, counting verifications (and slowing them, to widen any race)."""

    calls = 0

    def __init__(self, delay: float = 0.0):
        from argon2 import PasswordHasher

        self.real, self.delay = PasswordHasher(), delay

    def hash(self, password):
        return self.real.hash(password)

    def verify(self, stored, password):
        type(self).calls += 1
        time.sleep(self.delay)
        return self.real.verify(stored, password)


def test_parallel_sign_ins_cannot_all_pass_the_failure_limit(tmp_path, monkeypatch):
    """Issue 18: 12 parallel sign-ins were all checked against the 5-failure limit. The check and the
    count are one step now: of 12 simultaneous wrong passwords, 5 are verified and 7 refused at once."""
    path = tmp_path / "accounts.json"
    accounts.add(path, "ana", "analyst", PASSWORD)
    monkeypatch.setattr(accounts, "_hasher", lambda: _CountingHasher(delay=0.2))
    _CountingHasher.calls = 0
    signin = accounts.SignIn(path)
    start, results = threading.Barrier(12), []

    def attempt():
        start.wait()
        try:
            signin.check("ana", "guess-guess-guess")
        except accounts.AccountsError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("wrong user name or password") == accounts.MAX_FAILURES
    assert sum("too many failed sign-ins" in r for r in results) == 12 - accounts.MAX_FAILURES
    assert _CountingHasher.calls == accounts.MAX_FAILURES
    with pytest.raises(accounts.AccountsError, match="too many"):
        signin.check("ana", PASSWORD)


def test_argon2_verifications_at_once_are_bounded_and_the_rest_wait_or_are_refused(tmp_path, monkeypatch):
    """Issue 24, medium 5: 30 parallel sign-ins ran 30 argon2 verifications at once (64 MiB each: 357 MB
    to 2.16 GB). At most MAX_HASHING run at once; an attempt that waits longer than HASH_WAIT_S is refused
    as busy (not counted as a failure), and the lockout still counts the others."""
    path = tmp_path / "accounts.json"
    accounts.add(path, "ana", "analyst", PASSWORD)
    running, peak, lock = [0], [0], threading.Lock()

    class Slow(_CountingHasher):
        def verify(self, stored, password):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            try:
                return super().verify(stored, password)
            finally:
                with lock:
                    running[0] -= 1

    monkeypatch.setattr(accounts, "_hasher", lambda: Slow(delay=0.3))
    monkeypatch.setattr(accounts, "HASH_WAIT_S", 0.8, raising=False)
    signin = accounts.SignIn(path)
    start, results = threading.Barrier(30), []

    def attempt(i):
        start.wait()
        try:
            results.append(signin.check(f"user{i}", "guess-guess-guess"))
        except accounts.AccountsError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == accounts.MAX_HASHING
    busy = sum("busy" in r for r in results)
    assert busy >= 10 and results.count("wrong user name or password") == 30 - busy
    with signin._failures.held() as table:  # a refused-busy attempt is not a failure of its name
        assert sum(len(v) for k, v in table.items() if " from " not in k) == 30 - busy  # one count per name
    assert signin.check("ana", PASSWORD) == "analyst"  # a turn comes again once the others are done


def test_two_server_processes_share_the_failure_limit(tmp_path, monkeypatch):
    """Two servers on one accounts file (README "Deployment") each kept their own count, so a name had
    5 tries per server. The count lives beside the accounts file under an flock: two sign-in checkers
    (each its own file lock, as two processes have) let 5 wrong passwords through in all, not 10."""
    path = tmp_path / "accounts.json"
    accounts.add(path, "ana", "analyst", PASSWORD)
    monkeypatch.setattr(accounts, "_hasher", lambda: _CountingHasher(delay=0.05))
    _CountingHasher.calls = 0
    servers = [accounts.SignIn(path), accounts.SignIn(path)]
    start, results = threading.Barrier(12), []

    def attempt(i):
        start.wait()
        try:
            servers[i % 2].check("ana", "guess-guess-guess")
        except accounts.AccountsError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _CountingHasher.calls == accounts.MAX_FAILURES
    assert results.count("wrong user name or password") == accounts.MAX_FAILURES
    assert oct(servers[0]._failures.file.stat().st_mode & 0o777) == "0o600"


def test_a_name_without_an_account_costs_one_argon2_verification(tmp_path, monkeypatch):
    """Issue 18: user names leaked through timing (145 ms for a real name, 0.1 ms for an unknown one).
    Every sign-in verifies one argon2 hash, a dummy one with the real parameters for a name without
    a password hash."""
    from argon2 import extract_parameters

    path = tmp_path / "accounts.json"
    accounts.add(path, "ana", "analyst", PASSWORD)
    accounts.add(path, "chair@council.gov.uk", "viewer", None)  # OIDC account: no password
    monkeypatch.setattr(accounts, "_hasher", _CountingHasher)
    signin = accounts.SignIn(path)
    for name, password in (
        ("ana", "wrong-wrong-wrong"),
        ("nobody", "wrong-wrong-wrong"),
        ("chair@council.gov.uk", ""),
        ("x" * 500, "a"),
        ("ana", "p" * 5000),
    ):
        _CountingHasher.calls = 0
        with pytest.raises(accounts.AccountsError, match="wrong user name or password"):
            signin.check(name, password)
        assert _CountingHasher.calls == 1, name[:20]
    real = accounts.read(path)["ana"]["hash"]
    assert extract_parameters(signin._dummy_hash()) == extract_parameters(real)
    _CountingHasher.calls = 0
    assert signin.check("ana", PASSWORD) == "analyst" and _CountingHasher.calls == 1


def test_a_huge_user_name_is_refused_and_logged_cut(tmp_path, caplog):
    """Issue 18: 2 MB user names grew the log without limit."""
    path = tmp_path / "accounts.json"
    accounts.add(path, "ana", "analyst", PASSWORD)
    signin = accounts.SignIn(path)
    huge = "A" * 2_000_000
    with caplog.at_level(logging.WARNING, logger="csp_hotspots.access"):
        for _ in range(3):
            with pytest.raises(accounts.AccountsError, match="wrong user name or password"):
                signin.check(huge, "guess-guess-guess")
    assert len(caplog.text) < 1_000 and "+1999936 characters" in caplog.text
    failures = signin._failures.file
    assert not failures.exists() or huge not in failures.read_text()  # no account can have it: nothing kept
    with pytest.raises(accounts.AccountsError, match="at most 120"):
        accounts.add(path, "B" * 121, "viewer", PASSWORD)


@pytest.mark.parametrize(
    "claims, expected",
    [
        ({"email": "ana@council.gov.uk", "email_verified": True}, "analyst"),
        ({"email": "ana@council.gov.uk", "email_verified": False}, "public"),
        ({"email": "ana@council.gov.uk"}, "public"),  # the provider does not say: not verified
        ({"email": "ana@council.gov.uk", "email_verified": "false"}, "public"),
        ({"email": "ana@council.gov.uk", "email_verified": 1}, "public"),
        ({"email": "someone@else.org", "email_verified": True}, "public"),  # no partner account has it
        # issue 24: the string "true" some providers send, and an address in another case, are the partner's
        ({"email": "ana@council.gov.uk", "email_verified": "true"}, "analyst"),
        ({"email": "Ana@Council.GOV.uk", "email_verified": True}, "analyst"),
        # issue 24: a verified claim naming a password account ("root", the admin) is not that account
        ({"email": "root", "email_verified": True}, "public"),
        ({"email": "ROOT", "email_verified": "true"}, "public"),
        ({"email": "", "email_verified": True}, "public"),
    ],
)
def test_oidc_sign_in_needs_a_verified_email(claims, expected):
    """Issue 18: OIDC sign-in did not check ``email_verified``: an unverified address got its role. Issue
    24: only identity-provider accounts (no password) are matched, by e-mail in any case."""
    from dashboard import access

    users = {"ana@council.gov.uk": {"role": "analyst", "hash": None}, "root": {"role": "admin", "hash": "$argon2id$x"}}
    assert access.oidc_role(claims, users) == expected


# ------------------------------------------------------------------ the app per role
@pytest.fixture(scope="module")
def partner_site(tmp_path_factory):
    """A config with accounts (viewer, analyst, admin) and a small synthetic council incident log."""
    folder = tmp_path_factory.mktemp("access")
    cfg = write_config(folder)
    cfg.write_text(cfg.read_text().replace("[store]", f'[access]\naccounts = "{folder / "accounts.json"}"\n\n[store]'))
    for name, role in (("vera", "viewer"), ("ana", "analyst"), ("adam", "admin")):
        accounts.add(folder / "accounts.json", name, role, PASSWORD)
    (folder / "s.duckdb.disclosure-key").write_bytes(bytes(range(32)))  # fixed draws: the same figures every run
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
    tipping = synthetic.write_flytipping_a(
        synthetic.flytipping_records(store, "2021-12", "2022-01"), folder / "SYNTHETIC-flytipping.csv"
    )
    assert ingest_council(store, tipping, MAP_A).rows_loaded > 0
    return cfg, store


def _app(monkeypatch, cfg, user: str | None = None, page: str | None = None, to: str | None = None) -> AppTest:
    """The app as ``user`` (None: the public) sees it, on ``page``; ``to``: the Meeting period's end."""
    return app_as(monkeypatch, cfg, user, page, **({"to": to} if to else {}))


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
    assert len(at.get("download_button")) == 5  # ward CSV, GeoJSON, GeoPackage, map image, incidents CSV
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


def _numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in _NUMBER.findall(text)]


def _public(store, source: str, **filters) -> pd.DataFrame:
    """The public ward-by-month cells of a table, made here from the store as the rule says."""
    counts = store.counts(by=("ward_code", "month"), source=source, **filters)
    return disclosure.public_counts(
        counts[counts["ward_code"].notna()], disclosure.store_key(store.path), disclosure.table_id(source, **filters)
    )


def _slide(at, priority: str) -> str:
    """The Meeting page's slide (HTML) of ``priority`` (its id)."""
    return next(e.value for e in at.markdown if f'aria-label="{priority} ' in e.value)


def test_public_meeting_figures_are_sums_of_the_public_cells(partner_site, monkeypatch):
    """Issue 18: the Meeting metric showed "c" while its sentence said "(8 -> 8)". Every council figure
    the public sees on the Meeting page (number, change against the previous period, ward map) is now
    a sum of the rounded public cells."""
    cfg, store = partner_site
    direct = store.ward_summary(source="council-incidents", start="2021-08", end="2022-01")  # P4's window
    assert direct["incidents"].between(1, 4).sum() >= 5  # the source really has small ward counts
    public = _public(store, "council-incidents", flags=["mental-health"])
    now = disclosure.period_totals(public, "2021-08", "2022-01")
    # the target's comparison (a year earlier) on the one month loaded in both periods: 2022-01 against 2021-01
    compared = disclosure.period_totals(public, "2022-01", "2022-01")
    before = disclosure.period_totals(public, "2021-01", "2021-01")
    at = _app(monkeypatch, cfg, to="2022-01")  # public; the council log ends 2022-01
    slide = _slide(at, "P4")
    assert f'<div class="csp-number">{now.sum():,}</div>' in slide and now.sum() % 5 == 0
    assert f"({before.sum():,} -&gt; {compared.sum():,}) on the same months a year earlier:" in slide
    assert "Compared: 2022-01 against 2021-01 (" in slide  # the months compared, in small type beside it
    assert "judged on the exact counts; only the verdict is public" in slide and ", p " not in slide
    assert html.escape(disclosure.NOTE) in slide
    titles = dict(html.unescape(t).rsplit(": ", 1) for t in re.findall(r"<title>([^<]*)</title>", slide))
    names = dict(zip(direct["ward_code"], direct["ward_name"]))
    assert {n: int(v.replace(",", "")) for n, v in titles.items() if n in names.values()} == {
        names[c]: int(now.get(c, 0)) for c in names
    }

    at = _app(monkeypatch, cfg, "ana", to="2022-01")  # analysts see exact counts
    slide = _slide(at, "P4")
    exact = int(
        store.incidents(source="council-incidents", start="2021-08", end="2022-01", flags=["mental-health"])[
            "ward_code"
        ]
        .notna()
        .sum()
    )
    assert f'<div class="csp-number">{exact:,}</div>' in slide and disclosure.NOTE not in slide


def test_public_sentence_never_gives_a_true_count_8_to_8(tmp_path, empty_store):
    """The issue's "(8 -> 8)": 8 flagged cases in each of two months, 2 in each of four wards. The public
    sentence compares multiples of 5 (sums of the public cells), the exact one says 8 -> 8."""
    store = empty_store
    wards = store.areas("ward")
    rows = ["Case ID,Opened,Type,X,Y,Road,Mental health concern,Youth involved,Sensitive,Status,Data"]
    for month in (11, 12):
        for w in range(4):
            pt = wards.geometries[w].representative_point()
            rows += [
                f"C{month}{w}{i},0{i + 1}/{month}/2021 10:00,Welfare concern,{pt.x:.0f},{pt.y:.0f},Road,Y,N,Y,"
                "Open,SYNTHETIC"
                for i in range(2)
            ]
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    ingest_council(store, tmp_path / "log.csv", MAP_I)
    plist = priorities_mod.load(priorities_mod.DEFAULT_PRIORITIES)
    p4 = next(p for p in plist.priorities if p.id == "P4")
    exact = status_mod.measure_status(store, p4.measures[0], p4, "2021-12", 1, "previous", ANALYST)
    assert "(8 -> 8)" in exact.sentence
    key_file = Path(f"{store.path}.disclosure-key")
    for seed in range(12):  # several keys, so several draws (fixed: the same every run)
        key_file.write_bytes(np.random.default_rng(seed).bytes(32))
        public = _public(store, "council-incidents", flags=["mental-health"])
        shown = status_mod.measure_status(store, p4.measures[0], p4, "2021-12", 1, "previous", PUBLIC)
        cur = disclosure.period_totals(public, "2021-12", "2021-12")
        prev = disclosure.period_totals(public, "2021-11", "2021-11")
        assert shown.withheld and shown.current.count == cur.sum() and shown.change.base.count == prev.sum()
        assert shown.change.p is None and ", p " not in shown.sentence  # only the verdict, judged on 8 -> 8
        assert shown.status == exact.status == "on track" and shown.change.label == exact.change.label
        counts = _numbers(shown.sentence.split(" (judged")[0].replace("2021-11", ""))  # neither df nor the month
        assert counts and all(c % 5 == 0 for c in counts) and 8 not in counts, shown.sentence
        assert cur.sum() in counts and (prev.sum() in counts or prev.sum() == 0)
        assert shown.wards.set_index("ward_code")["current"].sum() == cur.sum()
        assert all(v % 5 == 0 for v in shown.wards["current"]) and all(v % 5 == 0 for v in shown.wards["previous"])
        assert set(shown.wards["change"]) == {status_mod.WITHHELD_WARD} and shown.wards["p_adj"].isna().all()
        loaded = shown.series[shown.series["count"].notna()]
        assert loaded["month"].tolist() == ["2021-11", "2021-12"]
        assert loaded["count"].tolist() == [prev.sum(), cur.sum()]  # the sparkline: sums of the public cells


def test_public_flytipping_page_shows_only_the_rounded_ward_table(partner_site, monkeypatch):
    """Issue 18: the page suppressed every waste type but its size-band table gave the total (16). The
    public now sees one table of council fly-tipping records: rounded ward counts and their sum."""
    cfg, store = partner_site
    at = _app(monkeypatch, cfg, page="views/flytipping.py")
    tables = [d.value for d in [*at.dataframe, *at.table]]
    assert tables and not any(set(t.columns) & {"Waste type (DEFRA)", "Size band", "Records"} for t in tables)
    public = disclosure.period_totals(_public(store, "council-flytipping"))
    true = store.ward_summary(source="council-flytipping")["incidents"].sum()
    total = next(c.value for c in at.caption if c.value.startswith("Records in all loaded months"))
    assert total.endswith(f": {public.sum():,}.") and public.sum() % 5 == 0 and true % 5  # a true total never
    assert not any(re.search(rf"\b{true}\b", e.value) for e in [*at.caption, *at.warning])
    at = _app(monkeypatch, cfg, "ana", "views/flytipping.py")
    assert any("Size band" in d.value.columns for d in at.dataframe)


def test_public_data_page_shows_council_months_only_as_loaded(partner_site, monkeypatch):
    """Issue 18: the Data page's monthly counts, subtracted from the Meeting period total, gave a
    suppressed month. The public sees only which months of a council source are loaded."""
    cfg, _ = partner_site
    at = _app(monkeypatch, cfg, page="views/data.py")
    cov = at.table[1].value  # after police.uk by month (an open source: its counts shown)
    council = cov.loc[[i for i in cov.index if i[0] in disclosure.SENSITIVE_SOURCES]]
    assert len(council) == 2
    shown = [v for v in council.to_numpy().ravel() if v]  # a blank: not loaded
    assert set(shown) == {"loaded"} and len(shown) == 13 + 2  # incidents 2021-01..2022-01, fly-tipping 2 months
    police = cov.loc[[i for i in cov.index if i[0] == "police.uk"]]
    assert all(str(v).replace(",", "").isdigit() for v in police.to_numpy().ravel() if v)


def test_a_cached_ward_table_is_kept_apart_by_audience(partner_site, monkeypatch):
    """Issue 25: the explorer's cached ward table was keyed on (path, selection) without the audience, so
    whoever asked first set what the next audience saw. Asked by an analyst first, then by the public: the
    public still gets the public cells (rules.disclose), not the analyst's exact counts."""
    from dashboard.views import explorer
    from geodata.analysis import ANALYST, PUBLIC, Selection, rules

    cfg, store = partner_site
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    sel = Selection.of("2021-01", "2022-01", source="council-incidents")
    exact = explorer.wards_for(sel, ANALYST).frame.set_index("ward_code")["incidents"]
    public = explorer.wards_for(sel, PUBLIC).frame.set_index("ward_code")["incidents"]
    assert exact.equals(store.ward_summary(**sel.filters()).set_index("ward_code")["incidents"])
    assert public.equals(rules.disclose(store, sel, PUBLIC)[0].loc[public.index])
    assert not public.equals(exact)


def test_pack_figures_of_council_sources_are_sums_of_the_public_cells(partner_site):
    from dashboard.render import pack

    _, store = partner_site
    built = pack.build(store, priorities_mod.load(priorities_mod.DEFAULT_PRIORITIES), end="2022-01")
    withheld = [m for r in built.results for m in r.measures if m.withheld and m.current.count is not None]
    # fly-tipping: 2 of the 6 months loaded, counted over them (not judged: no month has its counterpart)
    assert {m.measure.source for m in withheld} == {"council-incidents", "council-flytipping"}
    assert next(m for m in withheld if m.measure.source == "council-flytipping").status == "not judged"
    for m in withheld:
        public = _public(
            store, m.measure.source, **{k: v for k, v in m.measure.filters().items() if k not in ("source", "inside")}
        )
        now = disclosure.period_totals(public, m.current.start, m.current.end)
        assert m.current.count == now.sum()
        assert (
            m.wards.set_index("ward_code")["current"] == now.reindex(m.wards["ward_code"], fill_value=0).to_numpy()
        ).all()
    text = pack.render(built, "html").decode()
    assert text.count(disclosure.NOTE.replace("'", "&#x27;")) == len(withheld)


def _table_page(role: str) -> None:
    import pandas as pd
    import streamlit as st

    from dashboard import common

    st.session_state["csp_role"] = role
    common.table(
        pd.DataFrame(
            {"name": ['=HYPERLINK("http://evil.example","x")', "+1", "@SUM(A1)", "-2", "ok"], "n": [1, -2, 3, 4, 5]}
        ),
        hide_index=True,
    )


@pytest.mark.parametrize("role", ["public", "viewer", "analyst"])
def test_tables_download_only_for_analysts_and_neutralised(partner_site, monkeypatch, role):
    """Issue 18: public tables carried Streamlit's "Download as CSV" with raw =HYPERLINK(...), +, @, - cells.
    Other audiences get a static table (no toolbar, no download); analysts' table, whose toolbar
    downloads it, holds only neutralised text."""
    cfg, _ = partner_site
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    at = AppTest.from_function(_table_page, args=(role,), default_timeout=60).run()
    assert not at.exception, at.exception
    if role == "analyst":
        assert len(at.table) == 0
        shown = at.dataframe[0].value
        assert shown["name"].tolist() == ['\'=HYPERLINK("http://evil.example","x")', "'+1", "'@SUM(A1)", "'-2", "ok"]
        assert shown["n"].tolist() == [1, -2, 3, 4, 5]
    else:
        assert len(at.dataframe) == 0 and len(at.table) == 1


def test_public_pages_have_no_table_download(partner_site, monkeypatch):
    cfg, _ = partner_site
    at = _app(monkeypatch, cfg)  # the Meeting page, the default
    assert len(at.dataframe) == 0 and at.get("download_button") == []
    for page in ("views/explorer.py", "views/trends.py", "views/wards.py", "views/flytipping.py", "views/data.py"):
        open_page(at, page).run()
        assert not at.exception, (page, at.exception)
        assert len(at.dataframe) == 0 and at.get("download_button") == [], page
    assert len(at.table) >= 1  # the Data page's coverage, as a static table


IMAGE = "![x](https://evil.example/pixel.png)"


def test_priority_and_config_text_cannot_fetch_images(partner_site, monkeypatch, tmp_path):
    """Issue 18: Markdown images in priorities/config text fetched external URLs. A priorities file with
    an image in a title, a measure label, the strategy and a gap's reason: no element of the Meeting
    page (HTML or Markdown) holds image or link syntax, and the text is still shown."""
    cfg, _ = partner_site
    text = (BUNDLE / "priorities.toml").read_text()
    text = text.replace('title = "Fly-tipping"', f'title = "Fly-tipping {IMAGE}"')
    text = text.replace(
        'label = "Council incidents flagged mental health"',
        f'label = "Council incidents flagged mental health {IMAGE}"',
    )
    text = text.replace('strategy = "Community Safety Strategy 2018-19"', f'strategy = "Strategy {IMAGE}"')
    text = text.replace('why = "reported to Action Fraud, not in police.uk"', f'why = "Action Fraud {IMAGE}"')
    assert text.count(IMAGE) == 4
    (tmp_path / "priorities.toml").write_text(text)
    hostile = tmp_path / "csp.toml"
    hostile.write_text(cfg.read_text().replace(f'"{BUNDLE}/priorities.toml"', f'"{tmp_path / "priorities.toml"}"'))
    at = _app(monkeypatch, hostile)
    shown = [e.value for e in [*at.markdown, *at.caption, *at.info]] + [m.label for m in at.metric]
    assert sum("evil.example/pixel.png" in v for v in shown) >= 4  # the text is there, as text
    assert not any("![" in v or "](" in v or "<img" in v for v in shown)


@pytest.mark.parametrize(
    "attribution, ok",
    [
        ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors', True),
        ("Tiles: Ordnance Survey (OS Open Zoomstack)", True),
        ("<script>alert(1)</script>", False),
        ('<a href="javascript:alert(1)">x</a>', False),
        ('<a href="https://x.example" onclick="alert(1)">x</a>', False),
        ("<img src=x onerror=alert(1)>", False),
        ("{{ cycler.__init__.__globals__ }}", False),
    ],
)
def test_map_attribution_is_plain_text_or_a_plain_link(tmp_path, attribution, ok):
    """Issue 18 (low): script in the config's [map] attribution, which the map shows as HTML."""
    cfg = write_config(tmp_path)
    cfg.write_text(
        cfg.read_text().replace(
            "[map]\n",
            f"[map]\ntiles = \"https://tiles.example/{{z}}/{{x}}/{{y}}.png\"\nattribution = '{attribution}'\n",
        )
    )
    if ok:
        assert config_mod.load(cfg).map_attribution == attribution
    else:
        with pytest.raises(config_mod.ConfigError, match=r"line \d+: map\.attribution: plain text only"):
            config_mod.load(cfg)


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


def test_five_guesses_lock_a_name_only_from_their_address(tmp_path, monkeypatch):
    """Issue 24: anyone could lock any account for 15 minutes with five guesses. Failures now count per
    name and source address: the guesser's address is locked out, the partner elsewhere still signs in;
    guesses spread over many addresses still lock the name everywhere after MAX_NAME_FAILURES."""
    path = tmp_path / "accounts.json"
    accounts.add(path, "ana", "analyst", PASSWORD)
    monkeypatch.setattr(accounts, "_hasher", _CountingHasher)
    signin = accounts.SignIn(path)
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.AccountsError, match="wrong user name"):
            signin.check("ana", "guess-guess-guess", "203.0.113.9")
    with pytest.raises(accounts.AccountsError, match="too many"):
        signin.check("ana", PASSWORD, "203.0.113.9")  # the guesser's address: locked, even with the password
    assert signin.check("ana", PASSWORD, "198.51.100.7") == "analyst"  # the partner, elsewhere
    assert signin.check("ana", PASSWORD, "198.51.100.7") == "analyst"
    for i in range(accounts.MAX_NAME_FAILURES):  # many addresses, a few guesses each
        try:
            signin.check("ana", "guess-guess-guess", f"192.0.2.{i}")
        except accounts.AccountsError:
            pass
    with pytest.raises(accounts.AccountsError, match="too many"):
        signin.check("ana", PASSWORD, "198.51.100.8")  # bounded: now locked everywhere
