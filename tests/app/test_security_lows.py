"""Security round 3, the low findings (issue 24): each test reproduces the mechanism the review named."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from dashboard import cli
from tests.conftest import REPO, write_config


# ------------------------------------------------------------------ the command line
@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--unsafe"],  # was taken as --unsafe-listen-all
        ["serve", "--unsafe-listen"],
        ["summary", "--cat", "Burglary"],
        ["--conf", "x.toml", "wards"],
        ["months", "remove", "--source", "police.uk", "--month", "9999-12", "--ye"],
    ],
)
def test_options_are_never_abbreviated(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and ("unrecognized arguments" in err or "invalid choice: 'x.toml'" in err), err
    assert cli.build_parser().parse_args(["serve", "--unsafe-listen-all"]).unsafe_listen_all


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return str(write_config(tmp_path_factory.mktemp("lows")))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["report", "--out", "/nonexistent-dir/pack.pdf"], "No such file or directory"),
        (["report", "--out", "."], "--out .: not a regular file (a folder)"),
        (["hotspots", "--from", "2025-01", "--to", "2025-06", "--out", "/nonexistent-dir/h.gpkg"], "nonexistent-dir"),
        (["synth", "--out", "TMP", "--from", "2021-05", "--to", "2021-01"], "--from 2021-05 is after --to 2021-01"),
    ],
)
def test_bad_arguments_give_one_line_not_a_traceback(cfg, args, needle, capsys, tmp_path):
    args = [str(tmp_path / "out") if a == "TMP" else a for a in args]
    assert cli.main([args[0], "--config", cfg, *args[1:]]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the first run's build progress lines
    assert last.startswith("csp-hotspots: error: ") and needle in last


@pytest.mark.parametrize("port", ["99999", "-1", "0", "http"])
def test_serve_refuses_a_port_out_of_range(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["serve", "--port", port])
    assert exit_.value.code == 2 and "must be a TCP port from 1 to 65535" in capsys.readouterr().err


# ------------------------------------------------------------------ the disclosure key and the store's mode
def _council_store(tmp_path):
    """A store with a small council incident log loaded (its first sensitive records: the key is made)."""
    from geodata import config as config_mod
    from geodata.bundled import ST_ALBANS
    from geodata.pipeline import synthetic
    from geodata.pipeline.build import open_store
    from geodata.pipeline.ingest import ingest_council
    from tests.conftest import config_with_store

    cfg = config_with_store(tmp_path)
    store = open_store(cfg)
    log = synthetic.write_incidents(synthetic.incident_records(store, "2021-01", "2021-03", 20), tmp_path / "l.csv")
    assert not (tmp_path / "store.duckdb.disclosure-key").exists()
    ingest_council(store, log, ST_ALBANS / "council/mapping-incidents.toml")
    return cfg, store, config_mod


def test_a_lost_disclosure_key_is_refused_never_silently_replaced(tmp_path, capsys, monkeypatch):
    """Issue 24: deleting the key made the next public view draw a new one (13 of 360 cells changed). The
    key is made with the first council records; once lost, public council figures are refused with a
    message naming the file and the backup, until it is restored or made anew on purpose."""
    import io

    from geodata.analysis import PUBLIC, Selection, rules
    from geodata.methods import disclosure

    cfg, store, _ = _council_store(tmp_path)
    key_file = tmp_path / "store.duckdb.disclosure-key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"  # made by the ingest
    selection = Selection.of("2021-01", "2021-03", source="council-incidents")
    before = rules.disclose(store, selection, PUBLIC)[0]
    saved = key_file.read_bytes()
    key_file.unlink()  # lost
    with pytest.raises(disclosure.KeyMissing, match=r"disclosure-key: the disclosure key is missing.*backup"):
        rules.disclose(store, selection, PUBLIC)
    assert not key_file.exists()  # and not replaced
    key_file.write_bytes(saved)  # restored from the backup: the same figures
    assert rules.disclose(store, selection, PUBLIC)[0].equals(before)

    (tmp_path / "cfg").mkdir()
    toml = write_config(tmp_path / "cfg")
    toml.write_text(toml.read_text().replace(str(tmp_path / "cfg" / "s.duckdb"), str(store.path)))
    assert cli.main(["new-disclosure-key", "--config", str(toml)]) == 2  # there is one: never replaced
    assert "never replaced" in capsys.readouterr().err and key_file.read_bytes() == saved
    key_file.unlink()
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    assert cli.main(["new-disclosure-key", "--config", str(toml)]) == 1 and not key_file.exists()
    assert cli.main(["new-disclosure-key", "--config", str(toml), "--yes"]) == 0 and key_file.read_bytes() != saved


def test_a_store_made_world_readable_is_tightened_on_open(tmp_path):
    """Issue 24: a store (and its key) an older version left 0644 stayed 0644."""
    import os

    from geodata.methods import disclosure
    from geodata.store import Store

    cfg, store, _ = _council_store(tmp_path)
    key_file = tmp_path / "store.duckdb.disclosure-key"
    disclosure.store_key(store.path)  # there already (made by the ingest)
    for f in (store.path, key_file):
        os.chmod(f, 0o644)
    Store.open(cfg)
    assert [oct(f.stat().st_mode & 0o777) for f in (store.path, key_file)] == ["0o600", "0o600"]


# ------------------------------------------------------------------ the public Data page
def test_the_public_data_page_does_not_show_the_servers_store_path(tmp_path, monkeypatch):
    """Issue 24: the public Data page printed the server's store path (/srv/..., a user's home)."""
    from streamlit.testing.v1 import AppTest

    from dashboard import accounts
    from tests.conftest import REPO, open_page, write_config

    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[store]", f'[access]\naccounts = "{tmp_path / "a.json"}"\n\n[store]'))
    accounts.add(tmp_path / "a.json", "adam", "admin", "correct horse battery")
    monkeypatch.setenv("CSP_HOTSPOTS_CONFIG", str(cfg))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=120)
    open_page(at, "data").run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for kind in ("markdown", "caption", "info", "warning") for e in getattr(at, kind))
    assert "Last load into the store" in shown and str(tmp_path) not in shown and "s.duckdb" not in shown


# ------------------------------------------------------------------ serving
def test_a_clear_cache_message_from_a_browser_clears_no_shared_cache():
    """Issue 24: an anonymous client's ``clear_cache`` message cleared every visitor's caches. The server
    (dashboard/server.py, installed by ``serve``) now clears the sender's own session state only."""
    from types import SimpleNamespace

    import streamlit as st
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.runtime import app_session

    from dashboard import server

    calls = []

    @st.cache_data
    def figure(x):
        calls.append(x)
        return x * 2

    @st.cache_resource
    def shared(x):
        calls.append(-x)
        return [x]

    server.no_remote_cache_clearing()
    figure(21), shared(3)
    state = {"csp_role": "admin"}
    session = SimpleNamespace(_session_state=state)
    session._handle_clear_cache_request = lambda: app_session.AppSession._handle_clear_cache_request(session)
    app_session.AppSession.handle_backmsg(session, BackMsg(clear_cache=True))  # the client's message
    figure(21), shared(3)
    assert calls == [21, -3] and state == {}  # the caches kept their entries; the sender's state is gone


# ------------------------------------------------------------------ bad command-line arguments that hung
#: Seconds a refused argument may take (the command's imports, on a busy machine); each case below
#: waited for ever, or until memory ran out, before its fix.
HANG = 60


def _cli(args, stdin=subprocess.DEVNULL, close_stdin=False):
    """Run ``csp-hotspots`` as a user does, in its own session (no terminal), with 3 GB of address
    space at most (reading /dev/zero whole must fail fast, not take the machine's memory)."""

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
        if close_stdin:
            os.close(0)

    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *map(str, args)],
        stdin=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=HANG,
        preexec_fn=limits,
        start_new_session=True,
    )


def _refused(out, needle: str) -> None:
    """One line naming the argument, exit status 2, no traceback."""
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    last = out.stderr.strip().splitlines()[-1]
    assert out.returncode == 2 and last.startswith("csp-hotspots: error: ") and needle in last, out.stderr[-2000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A partner config (``init``: it has an accounts file) whose store is built."""
    from geodata import config as config_mod
    from geodata.pipeline.build import open_store

    folder = tmp_path_factory.mktemp("hunt")
    assert _cli(["init", folder / "cfg"]).returncode == 0
    path = folder / "cfg" / "csp.toml"
    open_store(config_mod.load(path))
    return path


@pytest.mark.parametrize(
    "args, needle",
    [
        (["wards", "--config", "PIPE"], "PIPE: config file is not a regular file (a FIFO (named pipe))"),
        (["wards", "--config", "/dev/zero"], "/dev/zero: config file is not a regular file (a device)"),
        (["ingest", "flytipping", "--config", "CFG", "--mapping", "PIPE", "x.csv"], "mapping file is not a regular"),
        (["report", "--config", "CFG", "--out", "TMP/p.pdf", "--priorities", "PIPE"], "priorities file is not a"),
        (["report", "--config", "CFG", "--priorities", "/dev/zero", "--out", "TMP/p.pdf"], "(a device)"),
        (["report", "--config", "CFG", "--out", "PIPE"], "--out PIPE: not a regular file (a FIFO (named pipe))"),
        (["actions", "annual", "--config", "CFG", "--out", "PIPE"], "--out PIPE: not a regular file (a FIFO"),
        (["hotspots", "--config", "CFG", "--out", "PIPE.gpkg"], "--out PIPE.gpkg: not a regular file (a FIFO"),
        (
            ["init", "TMP/new", "--name", "X", "--wards", "PIPE", "--lsoas", "PIPE"]
            + ["--ward-code", "A", "--ward-name", "B"],
            "PIPE: cannot read boundary file (not a regular file (a FIFO (named pipe)))",
        ),
    ],
)
def test_a_fifo_or_a_device_given_as_a_file_is_refused_not_waited_on(built, tmp_path, args, needle):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    os.mkfifo(tmp_path / "pipe.gpkg")
    args = [str(built) if a == "CFG" else a.replace("PIPE", str(pipe)).replace("TMP", str(tmp_path)) for a in args]
    _refused(_cli(args), needle.replace("PIPE", str(pipe)))


@pytest.mark.parametrize(
    "args, stdin, needle",
    [
        (["users", "add", "bob", "--password-stdin"], "/dev/zero", "--password-stdin: standard input gave a line over"),
        (["users", "add", "bob", "--password-stdin"], None, "--password-stdin: standard input is closed"),
        (["users", "add", "bob"], None, "no terminal and standard input is closed: give the password with"),
        (["users", "add", "bob"], "/dev/null", "no password typed (standard input ended)"),
        (["new-disclosure-key"], "/dev/zero", "new-disclosure-key: standard input gave a line over 4,096"),
        (["new-disclosure-key"], None, "new-disclosure-key: standard input is closed"),
        (["months", "remove", "--source", "police.uk", "--month", "2025-01"], None, "months remove: standard input is"),
    ],
)
def test_standard_input_closed_or_endless_is_one_clear_error(built, args, stdin, needle):
    with open(stdin or os.devnull, "rb") as fh:
        _refused(_cli([*args, "--config", built], stdin=fh, close_stdin=stdin is None), needle)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["wards", "--config", ""], "--config is empty"),
        (["report", "--config", "CFG", "--out", ""], "--out is empty: name the file to write"),
        (["report", "--config", "CFG", "--out", "TMP/p.pdf", "--priorities", " "], "--priorities is empty"),
        (["hotspots", "--config", "CFG", "--out", ""], "--out is empty"),
        (["hotspots", "--config", "CFG", "--cell", "nan"], "--cell must be a positive number of metres, got nan"),
        (["months", "remove", "--config", "CFG", "--source", "police.uk", "--month", "2025-13"], "--month must be"),
        (["synth", "--config", "CFG", "--out", ""], "--out is empty: name the folder to write into"),
        (["synth", "--config", "CFG", "--out", "/dev/zero"], "--out /dev/zero: not a folder"),
        (["init", ""], "DIR is empty: name the folder to write into"),
        (["init", "TMP/file"], "DIR TMP/file: not a folder"),
        (["serve", "--config", "CFG", "--address", ""], "--address is empty: name an IP address"),
        (["serve", "--config", "CFG", "--host", " "], "--host is empty: name a host"),
    ],
)
def test_empty_and_malformed_arguments_name_the_option(built, tmp_path, args, needle, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty folder taken as the current one wrote here
    (tmp_path / "file").write_text("")
    args = [str(built) if a == "CFG" else a.replace("TMP", str(tmp_path)) for a in args]
    assert cli.main(args) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("csp-hotspots: error: ") and needle.replace("TMP", str(tmp_path)) in last, last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written
