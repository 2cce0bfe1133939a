"""Safe serving by default: `csp-hotspots serve` in local mode listens on loopback only, reaches nothing
off the machine (every socket call of the server process is recorded by an audit hook), refuses unknown
Host names, closes the upload and metrics endpoints, forbids framing by other sites, and creates its
store readable by its owner only."""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import os
import stat
import sys
import time

import pytest

from dashboard import cli, server
from geodata import config as config_mod
from geodata.pipeline.build import open_store
from tests.conftest import BUNDLED_MONTHS, BUNDLED_ROWS, REPO, config_with_store, free_port, start_server, write_config
from tests.e2e.conftest import map_frame, wait_for_meeting

#: Installed in the server process through PYTHONPATH: appends every socket call's address to a log.
AUDIT_SHIM = """
import os, sys
_LOG = os.environ["CSP_AUDIT_LOG"]
def _hook(event, args):
    if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        where = args[1]
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        where = args[0]
    else:
        return
    with open(_LOG, "a") as f:
        f.write(f"{event}\\t{where!r}\\n")
sys.addaudithook(_hook)
"""


def _off_machine(log: str) -> list[str]:
    """The recorded socket calls whose address is not this machine's loopback (or a Unix socket)."""
    bad = []
    for line in log.splitlines():
        event, where = line.split("\t", 1)
        where = eval(where)  # noqa: S307  the repr of a str/bytes/tuple written by AUDIT_SHIM above
        host = where[0] if isinstance(where, tuple) else where
        if isinstance(host, bytes):
            host = host.decode()
        if host is None or (isinstance(host, str) and (host.startswith("/") or host in ("localhost", ""))):
            continue  # a Unix socket path, getaddrinfo(None) (a passive lookup), or the loopback name
        try:
            if ipaddress.ip_address(host).is_loopback:
                continue
        except ValueError:
            pass
        bad.append(line)
    return bad


def _request(port: int, path: str = "/", host: str | None = None, method: str = "GET", headers=None):
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    con.putrequest(method, path, skip_host=host is not None)
    if host is not None:
        con.putheader("Host", host)
    for k, v in (headers or {}).items():
        con.putheader(k, v)
    con.endheaders()
    resp = con.getresponse()
    resp.read()
    con.close()
    return resp


@pytest.fixture(scope="module")
def audited_server(tmp_path_factory):
    """`csp-hotspots serve` with the bundled config (no [access]: local mode), run from an empty folder with
    its store in a fresh CSP_HOTSPOTS_HOME, every socket call of the process logged."""
    tmp = tmp_path_factory.mktemp("serving")
    (tmp / "shim").mkdir()
    (tmp / "shim" / "sitecustomize.py").write_text(AUDIT_SHIM)
    (tmp / "cwd").mkdir()
    log = tmp / "audit.log"
    port = free_port()
    env = {
        **os.environ,
        "CSP_AUDIT_LOG": str(log),
        "CSP_HOTSPOTS_HOME": str(tmp / "home"),
        "PYTHONPATH": os.pathsep.join([str(tmp / "shim"), str(REPO)]),
    }
    proc = start_server([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)], port, tmp / "cwd", env)
    yield {"port": port, "log": log, "home": tmp / "home", "proc": proc}
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.browser
def test_local_mode_listens_on_loopback_and_reaches_nothing_off_the_machine(audited_server, page):  # noqa: F811
    port, log = audited_server["port"], audited_server["log"]
    page.goto(f"http://localhost:{port}/explorer", wait_until="domcontentloaded")
    assert map_frame(page) is not None  # a full page view: websocket, script run, map component
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
    wait_for_meeting(page, timeout=60)
    # a websocket from a foreign origin makes Streamlit check "this machine's addresses" (the lookups)
    resp = _request(
        port,
        "/_stcore/stream",
        headers={
            "Origin": "http://elsewhere.example",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert resp.status == 403
    text = log.read_text()
    binds = [line for line in text.splitlines() if line.startswith("socket.bind") and line.endswith(f", {port})")]
    assert binds == [f"socket.bind\t('127.0.0.1', {port})"]  # the server's socket; any other bind is loopback
    assert "socket.connect" in text  # the hook saw the server's own connections
    assert _off_machine(text) == []


@pytest.mark.slow  # starts `csp-hotspots serve` (the fast tier starts no server)
def test_serve_says_it_is_local_and_the_store_is_the_owners_only(audited_server):
    assert audited_server["proc"].poll() is None
    stores = list((audited_server["home"] / "store").glob("*.duckdb"))
    assert len(stores) == 1
    assert stat.S_IMODE(stores[0].stat().st_mode) == 0o600


@pytest.mark.slow  # starts `csp-hotspots serve` (the fast tier starts no server)
def test_unknown_host_refused_loopback_names_served_with_anti_framing_headers(audited_server):
    port = audited_server["port"]
    assert _request(port, host="evil.example").status == 400  # DNS rebinding: a foreign name on our address
    assert _request(port, host=f"evil.example:{port}").status == 400
    for name in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        resp = _request(port, host=name)
        assert resp.status == 200, name
        assert resp.getheader("X-Frame-Options") == "SAMEORIGIN"
        assert resp.getheader("Content-Security-Policy") == "frame-ancestors 'self'"
    ws = _request(
        port,
        "/_stcore/stream",
        host="evil.example",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert ws.status == 403


@pytest.mark.slow  # starts `csp-hotspots serve` (the fast tier starts no server)
def test_upload_and_metrics_endpoints_are_closed(audited_server):
    port = audited_server["port"]
    assert _request(port, "/_stcore/health").status == 200
    assert _request(port, "/_stcore/metrics").status == 404
    assert _request(port, "/_stcore/upload_file/session/file", method="PUT").status == 404


def _args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["serve", *argv])


def test_local_mode_refuses_the_network_without_the_unsafe_flag(tmp_path, capsys):
    cfg = config_mod.load(write_config(tmp_path))
    assert cli._listen(_args(), cfg) == ("127.0.0.1", frozenset())
    assert "listening on 127.0.0.1 only" in capsys.readouterr().out
    with pytest.raises(ValueError, match="local mode"):
        cli._listen(_args("--address", "0.0.0.0"), cfg)
    assert cli._listen(_args("--unsafe-listen-all"), cfg) == ("0.0.0.0", None)
    out = capsys.readouterr().out
    assert "UNSAFE" in out and "admin" in out and "DNS rebinding" in out


def test_access_section_listens_on_the_network_for_its_host_names(tmp_path, capsys):
    path = write_config(tmp_path)
    path.write_text(path.read_text() + '\n[access]\naccounts = "accounts.json"\nhosts = ["CSP.example.gov.uk"]\n')
    cfg = config_mod.load(path)
    assert cfg.access_hosts == ("csp.example.gov.uk",)
    assert cli._listen(_args("--host", "csp.internal"), cfg) == (
        "0.0.0.0",
        frozenset({"csp.example.gov.uk", "csp.internal"}),
    )
    assert "csp.example.gov.uk" in capsys.readouterr().out


def test_host_names_parsed_from_headers():
    assert [server.host_name(h) for h in ("Example.org:8501", "[::1]:8501", "::1", "localhost", "")] == [
        "example.org",
        "::1",
        "::1",
        "localhost",
        "",
    ]


def test_a_new_store_is_readable_by_its_owner_only(tmp_path):
    store = open_store(config_with_store(tmp_path, bundled=False))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_bundled_config_keeps_its_store_in_the_data_home_user_configs_beside_themselves(tmp_path, monkeypatch):
    import tomllib

    from geodata.bundled import ST_ALBANS

    rel = tomllib.loads((ST_ALBANS / "csp.toml").read_text())["store"]["path"]  # "store/....duckdb"
    monkeypatch.setenv("CSP_HOTSPOTS_HOME", str(tmp_path / "home"))
    assert config_mod.load().store_path == tmp_path / "home" / rel
    monkeypatch.delenv("CSP_HOTSPOTS_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert config_mod.load().store_path == tmp_path / "xdg" / "csp-hotspots" / rel
    user = tmp_path / "mine" / "csp.toml"
    user.parent.mkdir()
    user.write_text(
        write_config(tmp_path).read_text().replace(f'path = "{tmp_path / "s.duckdb"}"', 'path = "store/mine.duckdb"')
    )
    assert config_mod.load(user).store_path == tmp_path / "mine" / "store" / "mine.duckdb"


def test_an_error_shows_no_trace_or_server_path_to_the_visitor():
    """Issue 18: `showErrorDetails = false` still showed tracebacks with server paths (Streamlit reads the
    legacy false as "stacktrace"); the app's setting is "none", everywhere it is set."""
    import tomllib

    from streamlit.testing.v1 import AppTest

    from dashboard import cli
    from tests.conftest import REPO

    assert tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["client"]["showErrorDetails"] == "none"
    flags = list(cli.HARDENING)
    assert flags[flags.index("--client.showErrorDetails") + 1] == "none"

    def boom():
        raise RuntimeError("secret /srv/csp/store.duckdb")

    at = AppTest.from_function(boom)
    at.run()
    shown = at.exception[0]
    assert shown.stack_trace == [] and "secret" not in shown.message  # with the default it is all there


@pytest.mark.slow  # starts `csp-hotspots serve` (the fast tier starts no server)
def test_a_new_servers_log_reads_cleanly(tmp_path):
    # the review: the first serve printed "...26,483 rows2026-12-01 ... Uvicorn server started" and three
    # "Thread 'import-pages': missing ScriptRunContext!" warnings from the cache warm-up
    port = free_port()
    env = {**os.environ, "CSP_HOTSPOTS_HOME": str(tmp_path / "home")}
    proc = start_server([sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)], port, tmp_path, env)
    try:
        time.sleep(10)  # the warm-up thread fills the Meeting page's cache meanwhile
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert f"{BUNDLED_MONTHS} files, {BUNDLED_ROWS:,} rows\n" in out and "\r" not in out
    assert "ScriptRunContext" not in out, out[-2000:]
